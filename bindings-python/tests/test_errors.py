"""`ConfigurationError` stores what provide.foundation's does, under the same keys."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import reference

from resilience.errors import ConfigurationError

CASES: list[dict[str, Any]] = [
    {},
    {"config_key": "timeout"},
    {"config_key": "timeout", "config_source": "env"},
    {"config_source": "file", "code": "BAD_FILE"},
    {"config_key": "retry.max_attempts", "context": {"given": 0}, "limit": 1},
    {"cause": KeyError("missing")},
]


@pytest.mark.parametrize("kwargs", CASES, ids=repr)
def test_fields_match_the_original(kwargs: dict[str, Any]) -> None:
    ref_class = reference("provide.foundation.errors").ConfigurationError
    ours = ConfigurationError("bad config", **_fresh(kwargs))
    ref = ref_class("bad config", **_fresh(kwargs))
    assert (ours.message, ours.code, ours.context) == (ref.message, ref.code, ref.context)
    assert ours.to_dict() == ref.to_dict()
    assert str(ours) == str(ref)
    assert isinstance(ours, ValueError)


def test_config_key_is_stored_as_the_originals_dotted_key() -> None:
    error = ConfigurationError("Invalid timeout", config_key="timeout", config_source="env")
    assert error.context == {"config.key": "timeout", "config.source": "env"}
    assert error.to_dict()["config.key"] == "timeout"


def test_add_context_chains() -> None:
    error = ConfigurationError("x").add_context("aws.region", "eu-west-1").add_context("attempt", 2)
    assert error.context == {"aws.region": "eu-west-1", "attempt": 2}
    assert error.to_dict()["error.attempt"] == 2


def _fresh(kwargs: dict[str, Any]) -> dict[str, Any]:
    # The original stores a passed `context` dict itself (and adds to it):
    # give each side its own copy.
    return {k: dict(v) if isinstance(v, dict) else v for k, v in kwargs.items()}
