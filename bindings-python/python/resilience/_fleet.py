"""The `store=` / `name=` keywords of the breakers, rate limiters and retry
budgets (shared mode, issue 12).

Kept apart from `resilience.redis` so the breaker classes never import
redis-py: a store is any object with this module's `FleetStore` shape
(`resilience.redis.RedisStore` and `AsyncRedisStore` are the two there are).
"""

from __future__ import annotations

from typing import Any, Protocol

from resilience import _core


class FleetStore(Protocol):
    """What a breaker's, limiter's or budget's `store=` must be
    (`resilience.redis.RedisStore`, `resilience.redis.AsyncRedisStore`)."""

    @property
    def _fleet_config(self) -> Any: ...

    def _share(self, owner: Any, name: str, attribute: str | None) -> None: ...

    def _share_lease(self, owner: Any, core: Any, name: str) -> None: ...


def fleet_config(store: FleetStore | None, name: str | None) -> Any:
    """The native fleet parameters for a breaker created with `store=` and
    `name=` (both or neither; the name through core's `key_part` rule), or
    None for an unshared breaker."""
    _core.shared_name(store is not None, name)
    return None if store is None else store._fleet_config


def join(store: FleetStore | None, name: str | None, owner: Any, attribute: str | None = None) -> None:
    """Starts syncing `owner` (the breaker; `attribute` names its native
    core when it is not the breaker itself) under `name`. The store keeps a
    weak reference: a breaker that goes away stops syncing."""
    if store is not None and name is not None:
        store._share(owner, name, attribute)


def join_lease(store: FleetStore | None, name: str | None, owner: Any, core: Any) -> None:
    """Starts syncing a shared rate limiter's or retry budget's native `core`
    under `name` (`owner`, the `RateLimiter` or `RetryBudget`, is held
    weakly: one that goes away stops syncing)."""
    if store is not None and name is not None:
        store._share_lease(owner, core, name)
