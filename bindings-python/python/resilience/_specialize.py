"""Async wrappers with the wrapped function's own parameter list.

A generic `async def wrapper(*args, **kwargs)` packs a tuple and a dict on
every call; on the success path of an async decorator that packing is most
of the overhead. When the function's signature is plain Python, the wrapper
is generated with the same parameters (defaults passed through by
reference), so a call binds its arguments once, exactly as the function
itself would. Each body below is a driver only: every decision is the
core's (the retry state, the breaker permits).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import inspect
import keyword
from typing import Any

P = inspect.Parameter

# `{call}` is the argument list for the function, `{args}`/`{kwargs}` the
# same arguments as a tuple and a dict.
RETRY_BODY = """\
try:
    return await _rs_func({call})
except Exception as _rs_error:
    _rs_first = _rs_error
return await _rs_retry(_rs_first, _rs_func, {args}, {kwargs})
"""

BREAKER_BODY = """\
_rs_token = _rs_acquire()
try:
    _rs_result = await _rs_func({call})
except BaseException as _rs_error:
    _rs_error_of(_rs_token, _rs_error)
    raise
_rs_success(_rs_token, _rs_result)
return _rs_result
"""


def async_retry_wrapper(
    func: Callable[..., Awaitable[Any]],
    retry_async: Callable[[Exception, Any, tuple[Any, ...], dict[str, Any]], Awaitable[Any]],
) -> Callable[..., Awaitable[Any]] | None:
    """`async def` calling `func` with the same arguments and, after a first
    failure, `retry_async(error, func, args, kwargs)`."""
    return generate(func, RETRY_BODY, {"_rs_retry": retry_async})


def async_breaker_wrapper(
    func: Callable[..., Awaitable[Any]],
    acquire: Callable[[], int],
    success: Callable[[int, Any], None],
    error: Callable[[int, BaseException], None],
) -> Callable[..., Awaitable[Any]] | None:
    """`async def` running `func` under a breaker permit (acquire, then
    success or error), as `AsyncCircuitBreaker.call` does."""
    return generate(func, BREAKER_BODY, {"_rs_acquire": acquire, "_rs_success": success, "_rs_error_of": error})


def generate(func: Callable[..., Any], body: str, names: dict[str, Any]) -> Callable[..., Awaitable[Any]] | None:
    """The wrapper, or None when the signature cannot be reproduced (the
    caller then uses a generic `*args, **kwargs` wrapper)."""
    try:
        signature = inspect.signature(func, follow_wrapped=False)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if any(p.name.startswith("_rs_") or keyword.iskeyword(p.name) or not p.name.isidentifier() for p in params):
        return None

    namespace: dict[str, Any] = {"_rs_func": func, **names}
    header: list[str] = []
    positional: list[str] = []  # passed positionally to func
    star = ""
    keywords: list[str] = []  # passed by keyword to func
    double_star = ""
    for i, p in enumerate(params):
        default = ""
        if p.default is not P.empty:
            namespace[f"_rs_default_{i}"] = p.default
            default = f"=_rs_default_{i}"
        if p.kind is not P.POSITIONAL_ONLY and i > 0 and params[i - 1].kind is P.POSITIONAL_ONLY:
            header.append("/")
        if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD):
            header.append(p.name + default)
            positional.append(p.name)
        elif p.kind is P.VAR_POSITIONAL:
            header.append("*" + p.name)
            star = p.name
        elif p.kind is P.KEYWORD_ONLY:
            if not star and "*" not in header:
                header.append("*")
            header.append(p.name + default)
            keywords.append(p.name)
        else:  # VAR_KEYWORD
            header.append("**" + p.name)
            double_star = p.name
    if params and params[-1].kind is P.POSITIONAL_ONLY:
        header.append("/")

    call = [*positional, *([f"*{star}"] if star else []), *(f"{k}={k}" for k in keywords)]
    if double_star:
        call.append("**" + double_star)
    args = "(" + "".join(f"{a}, " for a in positional) + ")" + (f" + {star}" if star else "")
    kwargs = "{" + ", ".join([*(f"{k!r}: {k}" for k in keywords), *([f"**{double_star}"] if double_star else [])]) + "}"
    name = _safe_name(func)
    code = body.format(call=", ".join(call), args=args, kwargs=kwargs)
    source = f"async def {name}({', '.join(header)}):\n" + "".join(f"    {line}\n" for line in code.splitlines())
    exec(compile(source, f"<resilience wrapper of {name}>", "exec"), namespace)  # noqa: S102
    wrapper: Callable[..., Awaitable[Any]] = namespace[name]
    return wrapper


def _safe_name(func: Any) -> str:
    name = getattr(func, "__name__", "wrapper")
    if isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_rs_"):
        return name
    return "wrapper"
