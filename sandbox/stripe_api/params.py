"""Request helpers every ``/v1`` handler shares: unknown parameters, metadata, list pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import objects as ob
from .errors import ApiError, invalid, unknown_param
from .forms import as_int

if TYPE_CHECKING:
    from .server import Ctx

COMMON = {"expand"}


def check_params(ctx: Ctx, allowed: set[str]) -> None:
    """400 ``parameter_unknown`` for anything outside ``allowed`` (``expand`` always allowed)."""
    for k in ctx.params:
        if k not in allowed and k not in COMMON:
            raise unknown_param(k)


def metadata_update(target: dict[str, str], value: Any, param: str = "metadata") -> None:
    """Stripe metadata semantics: merge keys, empty string unsets a key, ``""`` clears all."""
    if value == "":
        target.clear()
        return
    if not isinstance(value, dict):
        raise invalid("Invalid object", param)
    for k, v in value.items():
        if v == "":
            target.pop(k, None)
        else:
            target[k] = str(v)


# ------------------------------------------------------------------------------ pagination
def paginate(
    ctx: Ctx,
    objs: list[dict[str, Any]],
    url: str,
    *,
    kind: str,
    render: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """limit / starting_after / ending_before over an already ordered list."""
    p = ctx.params
    limit = 10
    if p.get("limit") not in (None, ""):
        limit = as_int(p["limit"], "limit")
        if limit < 1 or limit > 100:
            raise invalid(
                f"This value must be greater than or equal to 1 and less than or equal to 100 (it currently is '{limit}').",
                "limit",
            )
    ids = [o["id"] for o in objs]
    sa, eb = p.get("starting_after"), p.get("ending_before")
    if sa and eb:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "starting_after",
        )
    label = {"customer": "customer"}.get(kind, kind)
    if sa:
        if sa not in ctx.state.objects:
            raise ApiError(
                404, f"No such {label}: '{sa}'", code="resource_missing", param="starting_after"
            )
        idx = ids.index(sa) + 1 if sa in ids else len(ids)
        page = objs[idx : idx + limit]
        has_more = idx + limit < len(objs)
    elif eb:
        if eb not in ctx.state.objects:
            raise ApiError(
                404, f"No such {label}: '{eb}'", code="resource_missing", param="ending_before"
            )
        idx = ids.index(eb) if eb in ids else 0
        start = max(0, idx - limit)
        page = objs[start:idx]
        has_more = start > 0
    else:
        page = objs[:limit]
        has_more = len(objs) > limit
    r = render or ctx.state.render
    return ob.list_object([r(o) for o in page], url, has_more)


def created_filter(ctx: Ctx, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    c = ctx.params.get("created")
    if c is None:
        return objs
    if isinstance(c, str):
        n = as_int(c, "created")
        return [o for o in objs if o["created"] == n]
    ops = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    for k, v in c.items():
        if k not in ops:
            raise unknown_param(f"created[{k}]")
        n = as_int(v, f"created[{k}]")
        objs = [o for o in objs if ops[k](o["created"], n)]
    return objs
