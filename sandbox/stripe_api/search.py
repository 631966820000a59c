"""A subset of Stripe's Search Query Language for ``/v1/customers/search``.

Supported: ``field:'v'`` (exact, case-insensitive), ``field~'sub'`` (substring),
``metadata['k']:'v'``, ``-`` negation, ``created>N`` style numeric comparisons, and clauses
joined by `` AND `` or `` OR `` (not both in one query, as in Stripe).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import ApiError

_CLAUSE = re.compile(
    r"""^\s*(?P<neg>-)?(?P<field>[a-z_]+)(?:\[(?P<q>['"])(?P<key>[^'"]+)(?P=q)\])?\s*
        (?P<op>:|~|>=|<=|>|<)\s*
        (?:(?P<vq>['"])(?P<sval>.*?)(?P=vq)|(?P<nval>-?\d+|null))\s*$""",
    re.VERBOSE,
)
SEARCHABLE = {"email", "name", "phone", "metadata", "created"}


def _bad(query: str) -> ApiError:
    return ApiError(
        400,
        f"We were unable to parse your search query. Try using the format "
        f"`metadata['key']:'value'` or `email:'value'`. Query: {query}",
        code="parameter_invalid",
        param="query",
    )


def compile_query(query: str) -> Callable[[dict[str, Any]], bool]:
    """Parse a query into a predicate over customer objects."""
    if not query or not query.strip():
        raise ApiError(
            400, "Missing required param: query.", code="parameter_missing", param="query"
        )
    has_and, has_or = " AND " in query, " OR " in query
    if has_and and has_or:
        raise ApiError(
            400,
            "You cannot combine `AND` and `OR` in the same query.",
            code="parameter_invalid",
            param="query",
        )
    parts = re.split(r"\s+(?:AND|OR)\s+", query.strip())
    if len(parts) > 10:
        raise ApiError(400, "Search queries are limited to 10 clauses.", param="query")
    preds = [_clause(p, query) for p in parts]
    if has_or:
        return lambda obj: any(p(obj) for p in preds)
    return lambda obj: all(p(obj) for p in preds)


def _clause(text: str, query: str) -> Callable[[dict[str, Any]], bool]:
    m = _CLAUSE.match(text)
    if not m:
        raise _bad(query)
    fld, op, key = m["field"], m["op"], m["key"]
    if fld not in SEARCHABLE or (fld == "metadata") != (key is not None):
        raise ApiError(
            400,
            f"Field `{fld}` is an unsupported search field for resource `customers`.",
            code="parameter_invalid",
            param="query",
        )
    sval = m["sval"]
    nval = m["nval"]

    def value_of(obj: dict[str, Any]) -> Any:
        return (obj.get("metadata") or {}).get(key) if fld == "metadata" else obj.get(fld)

    def test(obj: dict[str, Any]) -> bool:
        v = value_of(obj)
        if op in (">", "<", ">=", "<="):
            if v is None or nval is None:
                return False
            n = int(nval)
            return {">": v > n, "<": v < n, ">=": v >= n, "<=": v <= n}[op]
        if nval == "null":
            return v is None
        target = sval if sval is not None else nval
        if v is None or target is None:
            return False
        if op == "~":
            return len(target) >= 3 and target.lower() in str(v).lower()
        return str(v).lower() == target.lower()

    if m["neg"]:
        return lambda obj: not test(obj)
    return test
