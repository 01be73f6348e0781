"""RetryPolicy: configuration, delays for every strategy, jitter, decisions,
validation, and the value-object shape users' code depends on."""

from __future__ import annotations

import copy
import pickle

import pytest

from resilience import BackoffStrategy, RetryPolicy
from resilience.defaults import DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_ATTEMPTS, DEFAULT_RETRY_MAX_DELAY


def test_defaults_are_the_originals() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == DEFAULT_RETRY_MAX_ATTEMPTS == 3
    assert policy.backoff is BackoffStrategy.EXPONENTIAL
    assert policy.base_delay == DEFAULT_RETRY_BASE_DELAY == 1.0
    assert policy.max_delay == DEFAULT_RETRY_MAX_DELAY == 60.0
    assert policy.jitter is True
    assert policy.retryable_errors is None
    assert policy.retryable_status_codes is None


def test_keyword_only() -> None:
    with pytest.raises(TypeError):
        RetryPolicy(3)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [
        (BackoffStrategy.FIXED, [2.0, 2.0, 2.0, 2.0, 2.0]),
        (BackoffStrategy.LINEAR, [2.0, 4.0, 6.0, 8.0, 10.0]),
        (BackoffStrategy.EXPONENTIAL, [2.0, 4.0, 8.0, 16.0, 32.0]),
        (BackoffStrategy.FIBONACCI, [2.0, 2.0, 4.0, 6.0, 10.0]),
    ],
)
def test_every_backoff_strategy(backoff: BackoffStrategy, expected: list[float]) -> None:
    policy = RetryPolicy(backoff=backoff, base_delay=2.0, max_delay=100.0, jitter=False)
    assert [policy.calculate_delay(n) for n in range(1, 6)] == expected


def test_string_backoff_names_are_accepted_and_stored_as_members() -> None:
    policy = RetryPolicy(backoff="fibonacci", jitter=False)  # type: ignore[arg-type]
    assert policy.backoff is BackoffStrategy.FIBONACCI
    assert policy.calculate_delay(6) == 8.0


def test_delay_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=False)
    assert [policy.calculate_delay(n) for n in (3, 4, 10)] == [4.0, 5.0, 5.0]


@pytest.mark.parametrize("attempt", [0, -1, -(10**30)])
def test_non_positive_attempts_have_no_delay(attempt: int) -> None:
    assert RetryPolicy(jitter=False).calculate_delay(attempt) == 0


@pytest.mark.parametrize("backoff", list(BackoffStrategy))
def test_huge_attempts_saturate_instead_of_overflowing(backoff: BackoffStrategy) -> None:
    # Improvement: the original raises OverflowError near attempt 1024.
    policy = RetryPolicy(backoff=backoff, base_delay=1.0, max_delay=60.0, jitter=False)
    for attempt in (1024, 10_000, 10**30):
        assert policy.calculate_delay(attempt) == (1.0 if backoff is BackoffStrategy.FIXED else 60.0)


def test_proportional_jitter_stays_within_a_quarter_and_may_pass_max_delay() -> None:
    policy = RetryPolicy(base_delay=10.0, max_delay=10.0, seed=3)
    delays = [policy.calculate_delay(1) for _ in range(2000)]
    assert all(7.5 <= d < 12.5 for d in delays)
    assert max(delays) > 10.0, "proportional jitter is applied after the cap, as in the original"
    assert min(delays) < 10.0
    assert len(set(delays)) > 1000


@pytest.mark.parametrize("mode", ["full", "equal", "decorrelated"])
def test_extra_jitter_modes_never_exceed_max_delay(mode: str) -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0, jitter=mode, seed=9)  # type: ignore[arg-type]
    delays = [policy.calculate_delay(n) for n in range(1, 200)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 50


def test_seeded_jitter_is_reproducible() -> None:
    a = RetryPolicy(seed=42)
    b = RetryPolicy(seed=42)
    assert [a.calculate_delay(2) for _ in range(20)] == [b.calculate_delay(2) for _ in range(20)]
    assert [RetryPolicy(seed=1).calculate_delay(2) for _ in range(3)] != [a.calculate_delay(2) for _ in range(3)]


def test_jitter_false_is_exact() -> None:
    policy = RetryPolicy(base_delay=0.5, jitter=False)
    assert {policy.calculate_delay(2) for _ in range(100)} == {1.0}


class Retryable(Exception):
    pass


def test_should_retry_enforces_max_attempts_first() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(ValueError(), 1)
    assert policy.should_retry(ValueError(), 2)
    assert not policy.should_retry(ValueError(), 3)
    assert not policy.should_retry(ValueError(), 4)


def test_should_retry_filters_by_retryable_errors() -> None:
    policy = RetryPolicy(retryable_errors=(Retryable, ConnectionError))
    assert policy.should_retry(Retryable(), 1)
    assert policy.should_retry(ConnectionRefusedError(), 1)  # a subclass matches (isinstance)
    assert not policy.should_retry(ValueError(), 1)


class Response:
    def __init__(self, status: object) -> None:
        self.status = status


def test_should_retry_response() -> None:
    policy = RetryPolicy(max_attempts=2, retryable_status_codes={500, 503})
    assert policy.should_retry_response(Response(503), attempt=1)
    assert not policy.should_retry_response(Response(200), attempt=1)
    assert not policy.should_retry_response(Response(503), attempt=2)
    assert not policy.should_retry_response(object(), attempt=1)
    assert not RetryPolicy().should_retry_response(Response(503), attempt=1), "no codes: never"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
        ({"max_attempts": -3}, "max_attempts must be at least 1"),
        ({"base_delay": -0.1}, "base_delay must be positive"),
        ({"max_delay": -1.0}, "max_delay must be positive"),
        ({"base_delay": 5.0, "max_delay": 1.0}, "max_delay must be >= base_delay"),
    ],
)
def test_validation_messages_are_the_originals(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"base_delay": float("nan")}, "base_delay"),
        ({"max_delay": float("inf")}, "max_delay"),
        ({"jitter": "lots"}, "jitter"),
    ],
)
def test_values_the_original_let_through_are_clear_errors(kwargs: dict[str, object], parameter: str) -> None:
    with pytest.raises(ValueError, match=f"invalid {parameter}: must be"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("parameter", ["base_delay", "max_delay"])
@pytest.mark.parametrize("seconds", [1e11, 2.0**64, pytest.param(10**400, id="10**400")])
def test_delays_beyond_584_years_are_a_value_error(parameter: str, seconds: float) -> None:
    # Delays are u64 nanoseconds in the core (at most ~584 years); a longer
    # one is rejected instead of silently acting as 584 years (1e11 s) or
    # raising OverflowError (10**400).
    kwargs = {"base_delay": 0.0, "max_delay": seconds} if parameter == "max_delay" else {"base_delay": seconds, "max_delay": seconds}
    with pytest.raises(ValueError, match=f"^invalid {parameter}: must be"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_the_longest_delay_is_accepted() -> None:
    limit = 18446744073.0  # just under u64::MAX nanoseconds (about 584 years)
    assert RetryPolicy(base_delay=limit, max_delay=limit, jitter=False).calculate_delay(1) == pytest.approx(limit)


@pytest.mark.parametrize("seed", [-1, 2**64, 2**70, -(2**70)], ids=["-1", "2**64", "2**70", "-2**70"])
def test_seed_outside_u64_is_a_value_error_naming_it(seed: int) -> None:
    with pytest.raises(ValueError, match=r"^invalid seed: must be an integer in 0\.\.=18446744073709551615, got (-?\d+|an integer (above|below) -?2\^127)$"):
        RetryPolicy(seed=seed)


def test_seed_range_ends_are_accepted() -> None:
    assert RetryPolicy(seed=0).seed == 0
    assert RetryPolicy(seed=2**64 - 1).calculate_delay(1) >= 0


def test_unknown_backoff_is_a_value_error() -> None:
    # Improvement: the original silently fell back to base_delay.
    with pytest.raises(ValueError, match="^invalid backoff: must be one of fixed, linear, exponential, fibonacci, got 'cubic'$"):
        RetryPolicy(backoff="cubic")  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "value"), [("max_attempts", "3"), ("base_delay", "1"), ("max_delay", None)])
def test_wrong_types_are_type_errors(field: str, value: object) -> None:
    with pytest.raises(TypeError, match=f"'{field}' must be"):
        RetryPolicy(**{field: value})  # type: ignore[arg-type]


def test_frozen() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del policy.base_delay
    assert policy.max_attempts == 3


def test_value_equality_and_hash_including_status_codes() -> None:
    a = RetryPolicy(max_attempts=4, retryable_status_codes={500, 503}, retryable_errors=(KeyError,))
    b = RetryPolicy(max_attempts=4, retryable_status_codes={503, 500}, retryable_errors=(KeyError,))
    assert a == b and hash(a) == hash(b)
    assert a != RetryPolicy(max_attempts=4)
    assert len({a, b, RetryPolicy()}) == 2
    assert a != "RetryPolicy"


def test_repr_shows_the_enum_member_and_str_the_summary() -> None:
    policy = RetryPolicy(backoff=BackoffStrategy.LINEAR, base_delay=0.5)
    assert repr(policy) == (
        "RetryPolicy(max_attempts=3, backoff=<BackoffStrategy.LINEAR: 'linear'>, base_delay=0.5, "
        "max_delay=60.0, jitter=True, retryable_errors=None, retryable_status_codes=None)"
    )
    assert str(policy) == "RetryPolicy(max_attempts=3, backoff=linear, base_delay=0.5s)"
    assert repr(RetryPolicy(seed=7)).endswith(", seed=7)")


def test_copy_and_pickle_keep_the_value() -> None:
    policy = RetryPolicy(max_attempts=5, backoff=BackoffStrategy.FIXED, retryable_status_codes={502}, seed=3)
    assert copy.copy(policy) == policy
    assert copy.deepcopy(policy) == policy
    assert pickle.loads(pickle.dumps(policy)) == policy
    # A rebuilt policy starts its seeded jitter sequence afresh, like a new one.
    clone = pickle.loads(pickle.dumps(policy))
    fresh = RetryPolicy(max_attempts=5, backoff=BackoffStrategy.FIXED, retryable_status_codes={502}, seed=3)
    assert [clone.calculate_delay(1) for _ in range(5)] == [fresh.calculate_delay(1) for _ in range(5)]
