"""A small subset of go-bexpr, the `filter` language of Nomad and Consul list endpoints.

Supported: `Sel == "v"`, `Sel != "v"`, `Sel contains "v"`, `"v" in Sel`, `Sel is empty`,
`Sel is not empty`, joined with `and` / `or` (no parentheses). Selectors are dotted
paths (`Meta.client`) or `Meta["client"]`. Anything else is a 400, like a bad filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .http import HTTPError

_SEL = r'[A-Za-z_][\w]*(?:\.[\w-]+|\["[^"]*"\])*'
_VAL = r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false'
_CLAUSE = re.compile(
    rf"^\s*(?:(?P<sel>{_SEL})\s*(?P<op>==|!=|contains|not contains|is empty|is not empty)\s*(?P<val>{_VAL})?"
    rf"|(?P<lval>{_VAL})\s+(?P<inop>in|not in)\s+(?P<isel>{_SEL}))\s*$"
)


def _value(text: str):
    if text.startswith('"'):
        return text[1:-1].replace('\\"', '"')
    if text in ("true", "false"):
        return text == "true"
    return float(text) if "." in text else int(text)


def _path(sel: str) -> list[str]:
    return [p for p in re.split(r'\.|\["|"\]', sel) if p]


def _lookup(obj, path):
    for p in path:
        if isinstance(obj, dict):
            obj = obj.get(p)
        else:
            return None
    return obj


def _clause(text: str) -> Callable[[dict], bool]:
    m = _CLAUSE.match(text)
    if not m:
        raise HTTPError(400, f"failed to read filter expression: unsupported expression {text.strip()!r}")
    if m.group("inop"):
        path, val, negate = _path(m.group("isel")), _value(m.group("lval")), m.group("inop") == "not in"
        return lambda o: (val in (_lookup(o, path) or ())) != negate
    path, op, raw = _path(m.group("sel")), m.group("op"), m.group("val")
    if op in ("is empty", "is not empty"):
        return lambda o: (not _lookup(o, path)) == (op == "is empty")
    if raw is None:
        raise HTTPError(400, f"failed to read filter expression: missing value in {text.strip()!r}")
    val = _value(raw)
    if op == "==":
        return lambda o: _lookup(o, path) == val
    if op == "!=":
        return lambda o: _lookup(o, path) != val
    negate = op == "not contains"
    return lambda o: (val in (_lookup(o, path) or ())) != negate


def compile_filter(expr: str | None) -> Callable[[dict], bool] | None:
    if not expr or not expr.strip():
        return None
    if "(" in expr or ")" in expr:
        raise HTTPError(400, "failed to read filter expression: parentheses are not supported by the sandbox")
    ors = []
    for alt in re.split(r"\s+or\s+", expr):
        ands = [_clause(part) for part in re.split(r"\s+and\s+", alt)]
        ors.append(ands)
    return lambda o: any(all(c(o) for c in ands) for ands in ors)
