"""A subset of Stripe's Search Query Language for ``/v1/customers/search``.

Supported: ``field:'v'`` (exact, case-insensitive), ``field~'sub'`` (substring),
``metadata['k']:'v'``, ``-`` negation, ``created>N`` style numeric comparisons, and clauses
joined by spaces, ``AND`` or ``OR`` (case-insensitive; not both in one query, as in Stripe).
String values are in single or double quotes; inside them a backslash escapes the next
character (``'O\\'Brien'``, ``'back\\\\slash'``), as Stripe's query language says: "You can
escape quotes inside of quotes with a backslash" (https://docs.stripe.com/search). A keyword or
an operator inside quotes is just text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

_FIELD = re.compile(r"[a-z_]+")
_OPERATOR = re.compile(r">=|<=|:|~|>|<")
_BARE_VALUE = re.compile(r"-?\d+|null")
_KEYWORD = re.compile(r"(AND|OR)(?=\s)", re.IGNORECASE)
SEARCHABLE = {"email", "name", "phone", "metadata", "created"}


@dataclass(frozen=True, slots=True)
class _Clause:
    negated: bool
    field: str
    key: str | None
    op: str
    sval: str | None
    nval: str | None


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
    clauses, joiners = _parse(query)
    if len(joiners) > 1:
        raise ApiError(
            400,
            "You cannot combine `AND` and `OR` in the same query.",
            code="parameter_invalid",
            param="query",
        )
    if len(clauses) > 10:
        raise ApiError(400, "Search queries are limited to 10 clauses.", param="query")
    preds = [_clause(c, query) for c in clauses]
    if joiners == {"OR"}:
        return lambda obj: any(p(obj) for p in preds)
    return lambda obj: all(p(obj) for p in preds)


def _parse(query: str) -> tuple[list[_Clause], set[str]]:
    """The clauses and the keywords joining them (a space alone means AND)."""
    clauses: list[_Clause] = []
    joiners: set[str] = set()
    pos, end = 0, len(query)
    while True:
        while pos < end and query[pos].isspace():
            pos += 1
        if pos == end:
            break
        if clauses and (keyword := _KEYWORD.match(query, pos)):
            joiners.add(keyword[1].upper())
            pos = keyword.end()
            continue
        clause, pos = _parse_clause(query, pos)
        if pos < end and not query[pos].isspace():
            raise _bad(query)
        clauses.append(clause)
    if not clauses:
        raise _bad(query)
    return clauses, joiners


def _parse_clause(query: str, pos: int) -> tuple[_Clause, int]:
    negated = query.startswith("-", pos)
    pos += negated
    field = _FIELD.match(query, pos)
    if field is None:
        raise _bad(query)
    pos = field.end()
    key = None
    if query.startswith("[", pos):
        key, pos = _quoted(query, pos + 1)
        if not query.startswith("]", pos):
            raise _bad(query)
        pos += 1
    op = _OPERATOR.match(query, pos)
    if op is None:
        raise _bad(query)
    pos = op.end()
    sval = nval = None
    if query[pos : pos + 1] in ("'", '"'):
        sval, pos = _quoted(query, pos)
    elif bare := _BARE_VALUE.match(query, pos):
        nval, pos = bare[0], bare.end()
    else:
        raise _bad(query)
    return _Clause(negated, field[0], key, op[0], sval, nval), pos


def _quoted(query: str, pos: int) -> tuple[str, int]:
    """The string that starts with the quote at `pos` (escapes resolved), and where it ends."""
    quote = query[pos : pos + 1]
    if quote not in ("'", '"'):
        raise _bad(query)
    chars: list[str] = []
    pos += 1
    while pos < len(query):
        char = query[pos]
        if char == "\\" and pos + 1 < len(query):
            chars.append(query[pos + 1])
            pos += 2
        elif char == quote:
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise _bad(query)  # unterminated string


def _clause(clause: _Clause, query: str) -> Callable[[dict[str, Any]], bool]:
    fld, op, key = clause.field, clause.op, clause.key
    if fld not in SEARCHABLE or (fld == "metadata") != (key is not None):
        raise ApiError(
            400,
            f"Field `{fld}` is an unsupported search field for resource `customers`.",
            code="parameter_invalid",
            param="query",
        )
    sval = clause.sval
    nval = clause.nval

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

    if clause.negated:
        return lambda obj: not test(obj)
    return test
