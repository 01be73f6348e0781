"""Async wrappers with the wrapped function's own parameter list.

A generic `async def wrapper(*args, **kwargs)` packs a tuple and a dict on
every call; on the success path of an async `@retry` that packing is most of
the overhead. When the function's signature is plain Python, the wrapper is
generated with the same parameters (defaults passed through by reference),
so a call binds its arguments once, exactly as the function itself would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import inspect
import keyword
from typing import Any

P = inspect.Parameter

# Names of the generated code's own globals; a parameter with one of these
# names falls back to the generic wrapper.
_RESERVED = {"_rs_func", "_rs_retry", "_rs_error", "_rs_first"}


def async_retry_wrapper(
    func: Callable[..., Awaitable[Any]],
    retry_async: Callable[[Exception, Any, tuple[Any, ...], dict[str, Any]], Awaitable[Any]],
) -> Callable[..., Awaitable[Any]] | None:
    """`async def` calling `func` with the same arguments and, after a first
    failure, `retry_async(error, func, args, kwargs)`; None when the signature
    cannot be reproduced (the caller then uses a generic wrapper)."""
    try:
        signature = inspect.signature(func, follow_wrapped=False)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if any(p.name in _RESERVED or keyword.iskeyword(p.name) or not p.name.isidentifier() for p in params):
        return None

    namespace: dict[str, Any] = {"_rs_func": func, "_rs_retry": retry_async}
    header: list[str] = []
    positional: list[str] = []  # passed positionally to func
    star = ""
    keywords: list[str] = []  # passed by keyword to func
    double_star = ""
    seen_slash = False
    for i, p in enumerate(params):
        default = ""
        if p.default is not P.empty:
            namespace[f"_rs_default_{i}"] = p.default
            default = f"=_rs_default_{i}"
        if p.kind is P.POSITIONAL_ONLY:
            header.append(p.name + default)
            positional.append(p.name)
            continue
        if not seen_slash and any(q.kind is P.POSITIONAL_ONLY for q in params[:i]):
            header.append("/")
        seen_slash = True
        if p.kind is P.POSITIONAL_OR_KEYWORD:
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

    call = [*positional]
    if star:
        call.append("*" + star)
    call += [f"{k}={k}" for k in keywords]
    if double_star:
        call.append("**" + double_star)
    args_expr = "(" + "".join(f"{a}, " for a in positional) + ")" + (f" + {star}" if star else "")
    kwargs_expr = "{" + ", ".join([*(f"{k!r}: {k}" for k in keywords), *([f"**{double_star}"] if double_star else [])]) + "}"
    source = (
        f"async def {_safe_name(func)}({', '.join(header)}):\n"
        f"    try:\n"
        f"        return await _rs_func({', '.join(call)})\n"
        f"    except Exception as _rs_error:\n"
        f"        _rs_first = _rs_error\n"
        f"    return await _rs_retry(_rs_first, _rs_func, {args_expr}, {kwargs_expr})\n"
    )
    exec(compile(source, f"<resilience retry wrapper of {_safe_name(func)}>", "exec"), namespace)  # noqa: S102
    wrapper: Callable[..., Awaitable[Any]] = namespace[_safe_name(func)]
    return wrapper


def _safe_name(func: Any) -> str:
    name = getattr(func, "__name__", "wrapper")
    return name if isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name) else "wrapper"
