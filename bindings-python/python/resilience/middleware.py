"""`RetryMiddleware`: retries over any async request function whose response
has a `status` attribute, run by `RetryExecutor` (one retry loop for the
decorator, the executor and the middleware).

Beyond the original: when retries on a status run out, the last response is
returned (the original raised a synthetic TransportError), and a
`Retry-After` header (delta-seconds or HTTP-date) is honoured, capped at the
policy's `max_delay`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
import time
from typing import Any

from resilience import _core
from resilience.retry import BackoffStrategy, RetryExecutor, RetryPolicy, _require_policy


class TransportError(Exception):
    """Base transport error (what `RetryMiddleware` retries by default)."""

    def __init__(self, message: str, *, request: Any = None, code: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.code = code or "PROVIDE_ERROR"
        self.context = context


class Middleware(ABC):
    """Abstract base class for transport middleware."""

    @abstractmethod
    async def process_request(self, request: Any) -> Any:
        """Process request before sending."""

    @abstractmethod
    async def process_response(self, response: Any) -> Any:
        """Process response after receiving."""

    @abstractmethod
    async def process_error(self, error: Exception, request: Any) -> Exception:
        """Process errors during request."""


def _default_policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=3,
        base_delay=0.5,
        backoff=BackoffStrategy.EXPONENTIAL,
        retryable_errors=(TransportError,),
        # The core's defaults ({500, 502, 503, 504}), shared by every binding.
        retryable_status_codes=set(_core.DEFAULT_RETRYABLE_STATUS_CODES),
    )


def _retry_after_header(response: Any) -> str | None:
    headers = getattr(response, "headers", None)
    if not isinstance(headers, Mapping):
        return None
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == "retry-after":
            return str(value)
    return None


class RetryMiddleware(Middleware):
    """Automatic retry middleware using unified retry logic."""

    __slots__ = ("async_sleep_func", "policy", "time_source")

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        time_source: Callable[[], float] | None = None,
        async_sleep_func: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if policy is not None:
            _require_policy(policy)
        _core.require_optional_callable("time_source", time_source)
        _core.require_optional_callable("async_sleep_func", async_sleep_func)
        self.policy = _default_policy() if policy is None else policy
        # Wall-clock seconds since the epoch: an HTTP-date Retry-After needs it.
        self.time_source = time_source
        self.async_sleep_func = async_sleep_func

    def __repr__(self) -> str:
        return (
            f"RetryMiddleware(policy={self.policy!r}, time_source={self.time_source!r}, "
            f"async_sleep_func={self.async_sleep_func!r})"
        )

    async def process_request(self, request: Any) -> Any:
        """No request processing needed."""
        return request

    async def process_response(self, response: Any) -> Any:
        """No response processing needed (retries handled in execute)."""
        return response

    async def process_error(self, error: Exception, request: Any) -> Exception:
        """Handle error, potentially with retries (this is called by client)."""
        return error

    async def execute_with_retry(self, execute_func: Callable[[Any], Awaitable[Any]], request: Any) -> Any:
        """Execute request with retries.

        Errors matching the policy's `retryable_errors` and responses whose
        status is in `retryable_status_codes` are retried per the policy.
        When retries run out, a retryable error is raised and a retryable
        response is returned as is.
        """
        if not callable(execute_func):
            raise _core.not_callable("execute_func", execute_func)
        executor = RetryExecutor(
            self.policy,
            time_source=self.time_source,
            async_sleep_func=self.async_sleep_func,
        )
        policy = self.policy
        own = policy.retry_on_result

        def retry_on_result(response: Any) -> bool:
            # attempt=1, as in the original: the executor counts attempts.
            return policy.should_retry_response(response, attempt=1) or (own is not None and bool(own(response)))

        def cause_of(response: Any) -> TransportError:
            # The original's synthetic error stands for the response in the
            # log records ("Retry 1/3 after 0.50s", "Retryable HTTP status: 503").
            return TransportError(f"Retryable HTTP status: {getattr(response, 'status', None)}", request=request)

        # One loop for errors and statuses: a retry_on_result predicate, with
        # the server's Retry-After as the value's hint.
        return await executor._run_async(
            execute_func, (request,), {}, predicate=retry_on_result, hint=self._retry_after, cause_of=cause_of
        )

    def _retry_after(self, response: Any) -> float | None:
        """The server's Retry-After hint in seconds (capped by the core)."""
        header = _retry_after_header(response)
        if header is None:
            return None
        now = (self.time_source or time.time)()
        return self.policy._core.retry_after_hint(header, now)


__all__ = ["Middleware", "RetryMiddleware", "TransportError"]
