"""go-bexpr, the ``filter=`` language of Nomad and Consul, over JSON-shaped objects.

The grammar is hashicorp/go-bexpr's ``grammar/grammar.peg`` (parentheses, ``not``, ``and`` /
``or``, ``==``, ``!=``, ``in``, ``not in``, ``contains``, ``not contains``, ``matches``,
``not matches``, ``is empty``, ``is not empty``, ``is nil``, ``is not nil``, ``any`` / ``all``
collection expressions, unquoted values, dotted and ``["key"]`` selectors, JSON-pointer
selectors). It is written here as a small PEG interpreter of our own that keeps the
farthest-failure bookkeeping of the pigeon parser generator, so parse errors read like the
real ones ("1:4 (3): no match found, expected: ...").

Evaluation follows go-bexpr's ``evaluate.go`` as applied to Nomad's Go structs: an unknown
field of a struct is an error, a missing key of a map is "not present" (``==`` false, ``!=``
true, ``is empty`` true ...), the value's own kind decides how the literal is coerced.
JSON loses which objects were Go maps, so callers name the map-typed keys (``maps``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .http import HTTPError
from .nomad_fields import FIELDS

# Keys whose value is a Go map in Nomad's structs (nomad/structs): everything else that is
# a JSON object was a struct. From the kinds in Nomad v1.11.3's struct definitions.
NOMAD_MAP_KEYS = frozenset(
    {
        "Args",
        "Attributes",
        "CanaryMeta",
        "Config",
        "DesiredTGUpdates",
        "Details",
        "Drivers",
        "Env",
        "FailedTGAllocs",
        "HostNetworks",
        "HostVolumes",
        "Links",
        "Meta",
        "QueuedAllocations",
        "Summary",
        "TaggedAddresses",
        "TaskGroups",
        "TaskResources",
        "TaskStates",
        "Tasks",
        "Volumes",
        "ServiceMeta",
        "NodeMeta",
    }
)


class BexprError(Exception):
    """A parse or evaluation error, with go-bexpr's text."""


# --------------------------------------------------------------------------- PEG engine
class _Fail(Exception):
    pass


class _State:
    def __init__(self, text: str):
        self.text = text
        self.max_pos = -1
        self.expected: list[str] = []
        self.invert = False
        self.errors: list[str] = []
        self.rules: list[str] = []

    def want_at(self, matched: bool, pos: int, want: str):
        # pigeon records what was wanted at the farthest position; inside a "!" the sense flips.
        if matched != self.invert:
            return
        if pos < self.max_pos:
            return
        if pos > self.max_pos:
            self.max_pos, self.expected = pos, []
        self.expected.append(("!" + want) if self.invert else want)

    def position(self, pos: int) -> str:
        before = self.text[:pos]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        return f"{line}:{col} ({len(before.encode())})"

    def add_error(self, pos: int, message: str):
        rule = f"rule {self.rules[-1]}: " if self.rules else ""
        self.errors.append(f"{self.position(pos)}: {rule}{message}")


class _E:
    """A parsing expression: parse(state, pos) -> (value, new_pos) or raise _Fail."""

    def parse(self, st: _State, pos: int):  # pragma: no cover - interface
        raise NotImplementedError


class _Lit(_E):
    def __init__(self, s: str):
        self.s = s
        self.want = '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def parse(self, st, pos):
        ok = st.text.startswith(self.s, pos)
        st.want_at(ok, pos, self.want)
        if not ok:
            raise _Fail
        return self.s, pos + len(self.s)


class _Cls(_E):
    def __init__(self, want: str, test: Callable[[str], bool]):
        self.want, self.test = want, test

    def parse(self, st, pos):
        if pos < len(st.text) and self.test(st.text[pos]):
            st.want_at(True, pos, self.want)
            return st.text[pos], pos + 1
        st.want_at(False, pos, self.want)
        raise _Fail


class _Any(_E):
    def parse(self, st, pos):
        if pos < len(st.text):
            st.want_at(True, pos, ".")
            return st.text[pos], pos + 1
        st.want_at(False, pos, ".")
        raise _Fail


class _Seq(_E):
    def __init__(self, *items, action=None):
        self.items, self.action = items, action

    def parse(self, st, pos):
        start, vals = pos, []
        for it in self.items:
            v, pos = _expr(it).parse(st, pos)
            vals.append(v)
        if self.action is None:
            return vals, pos
        try:
            return self.action(*vals, text=st.text[start:pos]), pos
        except BexprError as exc:
            st.add_error(pos, str(exc))
            raise _Fail from None


class _Or(_E):
    def __init__(self, *alts):
        self.alts = alts

    def parse(self, st, pos):
        for alt in self.alts:
            try:
                return _expr(alt).parse(st, pos)
            except _Fail:
                continue
        raise _Fail


class _Rep(_E):
    def __init__(self, item, minimum=0):
        self.item, self.minimum = item, minimum

    def parse(self, st, pos):
        vals = []
        while True:
            try:
                v, pos = _expr(self.item).parse(st, pos)
            except _Fail:
                break
            vals.append(v)
        if len(vals) < self.minimum:
            raise _Fail
        return vals, pos


class _Opt(_E):
    def __init__(self, item):
        self.item = item

    def parse(self, st, pos):
        try:
            return _expr(self.item).parse(st, pos)
        except _Fail:
            return None, pos


class _Not(_E):
    def __init__(self, item):
        self.item = item

    def parse(self, st, pos):
        st.invert = not st.invert
        try:
            _expr(self.item).parse(st, pos)
            matched = True
        except _Fail:
            matched = False
        finally:
            st.invert = not st.invert
        if matched:
            raise _Fail
        return None, pos


class _Ahead(_E):
    def __init__(self, item):
        self.item = item

    def parse(self, st, pos):
        _expr(self.item).parse(st, pos)
        return None, pos


class _Error(_E):
    """``&{ return false, errors.New(msg) }``: always fails, leaving an error behind."""

    def __init__(self, message):
        self.message = message

    def parse(self, st, pos):
        st.add_error(pos, self.message)
        raise _Fail


class _Rule(_E):
    def __init__(self, name: str, display: str | None = None):
        self.name, self.display, self.body = name, display, None

    def parse(self, st, pos):
        st.rules.append(f'"{self.display}"' if self.display else self.name)
        try:
            return self.body.parse(st, pos)
        finally:
            st.rules.pop()


def _expr(x) -> _E:
    return _Lit(x) if isinstance(x, str) else x


# --------------------------------------------------------------------------- AST
@dataclass(frozen=True)
class Selector:
    path: tuple[str, ...]
    pointer: bool = False

    def __str__(self):
        return ("/" if self.pointer else ".").join(self.path)


@dataclass(frozen=True)
class Match:
    selector: Selector
    op: str  # ==, !=, in, not in, is empty, is not empty, matches, not matches, is nil, is not nil
    value: str | None = None  # the raw literal; coerced against the selected value's kind


@dataclass(frozen=True)
class Unary:
    operand: object  # "not"


@dataclass(frozen=True)
class Binary:
    op: str  # and | or
    left: object
    right: object


@dataclass(frozen=True)
class Collection:
    op: str  # any | all
    selector: Selector
    names: tuple[str | None, str | None, str | None]  # (default, index, value)
    inner: object


def _go_unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    body, out, i = text[1:-1], [], 0
    simple = {
        "n": "\n",
        "t": "\t",
        "r": "\r",
        "\\": "\\",
        '"': '"',
        "'": "'",
        "a": "\a",
        "b": "\b",
        "f": "\f",
        "v": "\v",
    }
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise BexprError("invalid syntax")
            out.append(chr(int(digits, 16)))
            i += 2 + width
        else:
            raise BexprError("invalid syntax")
    return "".join(out)


def _unescape_pointer(seg: str) -> str:
    return seg.replace("~1", "/").replace("~0", "~")


# --------------------------------------------------------------------------- grammar
def _grammar() -> _Rule:
    R = _Rule
    inp, or_e, and_e, not_e = R("Input"), R("OrExpression"), R("AndExpression"), R("NotExpression")
    coll, coll_ids = R("CollectionExpression"), R("CollectionIdentifiers", "collection-identifiers")
    paren, match = R("ParenthesizedExpression", "grouping"), R("MatchExpression", "match")
    m_sov, m_so, m_vos = (
        R("MatchSelectorOpValue", "match"),
        R("MatchSelectorOp", "match"),
        R("MatchValueOpSelector", "match"),
    )
    sel, ptrseg, ident, sel_or_idx = (
        R("Selector", "selector"),
        R("JsonPointerSegment"),
        R("Identifier"),
        R("SelectorOrIndex"),
    )
    index, value, number = R("IndexExpression", "index"), R("Value", "value"), R("NumberLiteral", "number")
    after_num, int_or_float, string = R("AfterNumbers"), R("IntegerOrFloat"), R("StringLiteral", "string")
    ws, eof = R("_", "whitespace"), R("EOF")

    ws.body = _Rep(_Cls("[ \\t\\r\\n]", lambda c: c in " \t\r\n"), 1)
    eof.body = _Not(_Any())
    o_ws = _Opt(ws)

    inp.body = _Or(
        _Seq(o_ws, "(", o_ws, or_e, o_ws, ")", o_ws, eof, action=lambda *v, text: v[3]),
        _Seq(o_ws, or_e, o_ws, eof, action=lambda *v, text: v[1]),
    )
    or_e.body = _Or(
        _Seq(and_e, ws, "or", ws, or_e, action=lambda a, _1, _2, _3, b, text: Binary("or", a, b)),
        and_e,
        coll,
    )
    and_e.body = _Or(
        _Seq(not_e, ws, "and", ws, and_e, action=lambda a, _1, _2, _3, b, text: Binary("and", a, b)),
        not_e,
    )

    def _not(_kw, _ws, inner, text):
        return inner.operand if isinstance(inner, Unary) else Unary(inner)

    not_e.body = _Or(_Seq("not", ws, not_e, action=_not), paren)
    coll.body = _Seq(
        _Or(_Seq("any", ws, action=lambda *v, text: "any"), _Seq("all", ws, action=lambda *v, text: "all")),
        sel,
        ws,
        "as",
        ws,
        coll_ids,
        o_ws,
        "{",
        o_ws,
        or_e,
        o_ws,
        "}",
        action=lambda op, s, _a, _b, _c, names, _d, _e, _f, inner, *_r, text: Collection(op, s, names, inner),
    )
    coll_ids.body = _Or(
        _Seq(ident, o_ws, ",", o_ws, ident, action=lambda a, _1, _2, _3, b, text: (None, a, b)),
        _Seq(ident, o_ws, ",", o_ws, "_", action=lambda a, *_r, text: (None, a, None)),
        _Seq("_", o_ws, ",", o_ws, ident, action=lambda *v, text: (None, None, v[4])),
        _Seq(ident, action=lambda a, text: (a, None, None)),
    )
    paren.body = _Or(
        _Seq("(", o_ws, or_e, o_ws, ")", action=lambda *v, text: v[2]),
        match,
        _Seq("(", o_ws, or_e, o_ws, _Not(")"), _Error("Unmatched parentheses")),
    )
    match.body = _Or(m_sov, m_so, m_vos)

    def op(*parts, name):
        return _Seq(*parts, action=lambda *v, text: name)

    eq = op(o_ws, "==", o_ws, name="==")
    ne = op(o_ws, "!=", o_ws, name="!=")
    is_empty = op(ws, "is", ws, "empty", name="is empty")
    is_not_empty = op(ws, "is", ws, "not", ws, "empty", name="is not empty")
    m_in = op(ws, "in", ws, name="in")
    m_not_in = op(ws, "not", ws, "in", ws, name="not in")
    contains = op(ws, "contains", ws, name="in")
    not_contains = op(ws, "not", ws, "contains", ws, name="not in")
    matches = op(ws, "matches", ws, name="matches")
    not_matches = op(ws, "not", ws, "matches", ws, name="not matches")
    is_nil = op(ws, "is", ws, "nil", name="is nil")
    is_not_nil = op(ws, "is", ws, "not", ws, "nil", name="is not nil")

    m_sov.body = _Seq(
        sel,
        _Or(eq, ne, contains, not_contains, matches, not_matches),
        value,
        action=lambda s, o, v, text: Match(s, o, v),
    )
    m_so.body = _Seq(sel, _Or(is_empty, is_not_empty, is_nil, is_not_nil), action=lambda s, o, text: Match(s, o))
    m_vos.body = _Or(
        _Seq(value, _Or(m_in, m_not_in), sel, action=lambda v, o, s, text: Match(s, o, v)),
        _Seq(value, _Or(m_in, m_not_in), _Not(sel), _Error("Invalid selector")),
    )

    def _pointer(_q1, segs, _q2, text):
        return Selector(tuple(_unescape_pointer(s) for s in segs), pointer=True)

    sel.body = _Or(
        _Seq(ident, _Rep(sel_or_idx), action=lambda first, rest, text: Selector((first, *rest))),
        _Seq('"', _Rep(ptrseg), '"', action=_pointer),
    )
    ptrseg.body = _Seq(
        "/",
        _Rep(_Cls("[\\pL\\pN-_.~:|]", lambda c: c.isalnum() or c in "-_.~:|"), 1),
        action=lambda _s, chars, text: text[1:],
    )
    ident.body = _Seq(
        _Cls("[a-zA-Z]", lambda c: c.isascii() and c.isalpha()),
        _Rep(_Cls("[a-zA-Z0-9_/]", lambda c: (c.isascii() and c.isalnum()) or c in "_/")),
        action=lambda *v, text: text,
    )
    digits = _Rep(_Cls("[0-9]", lambda c: c.isdigit() and c.isascii()), 1)
    sel_or_idx.body = _Or(
        _Seq(".", ident, action=lambda _d, i, text: i),
        index,
        _Seq(".", digits, action=lambda *v, text: text[1:]),
    )
    index.body = _Or(
        _Seq("[", o_ws, string, o_ws, "]", action=lambda *v, text: v[2]),
        _Seq("[", o_ws, _Not(string), _Error("Invalid index")),
        _Seq("[", o_ws, string, o_ws, _Not("]"), _Error("Unclosed index expression")),
    )
    value.body = _Or(
        _Seq(sel, action=lambda s, text: str(s)),
        number,
        string,
    )
    number.body = _Or(
        _Seq(_Opt("-"), int_or_float, _Ahead(after_num), action=lambda *v, text: text),
        _Seq(_Opt("-"), int_or_float, _Not(after_num), _Error("Invalid number literal")),
    )
    after_num.body = _Ahead(_Or(ws, eof, ")"))
    int_or_float.body = _Seq(
        _Or("0", _Seq(_Cls("[1-9]", lambda c: c in "123456789"), _Rep(_Cls("[0-9]", lambda c: c in "0123456789")))),
        _Opt(_Seq(".", digits)),
    )
    raw_char = _Seq(_Not("`"), _Any())
    dq_char = _Seq(_Not('"'), _Any())
    string.body = _Or(
        _Seq(
            _Or(_Seq("`", _Rep(raw_char), "`"), _Seq('"', _Rep(dq_char), '"')),
            action=lambda _v, text: _go_unquote(text),
        ),
        _Seq(_Or(_Seq("`", _Rep(raw_char)), _Seq('"', _Rep(dq_char))), eof, _Error("Unterminated string literal")),
    )
    return inp


_INPUT = _grammar()


def parse(expr: str):
    """The AST of a go-bexpr expression; BexprError with pigeon's message when it does not parse."""
    st = _State(expr)
    try:
        ast, _ = _INPUT.parse(st, 0)
    except _Fail:
        ast = None
    if st.errors:
        seen = list(dict.fromkeys(st.errors))
        raise BexprError("\n".join(seen))
    if ast is None:
        wants = list(dict.fromkeys(st.expected))
        eof = "!." in wants
        listed = sorted(w for w in wants if w != "!.") + (["EOF"] if eof else [])
        joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
        raise BexprError(f"{st.position(max(st.max_pos, 0))}: no match found, expected: {joined}")
    return ast


# --------------------------------------------------------------------------- evaluation
_MISSING = object()
_NIL = object()  # a JSON null: Go's nil pointer, map or slice


def _pointer_text(path) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)


def _kind(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, dict):
        return "struct"
    return "invalid"


def _zero(kind: str):
    """Go's zero value for a field the JSON left out (omitempty)."""
    if kind == "string":
        return ""
    if kind == "number":
        return 0
    if kind == "float":
        return 0.0
    if kind == "bool":
        return False
    if kind.startswith("struct:"):
        return {}
    return None  # a nil pointer, map or slice


class _Evaluator:
    def __init__(self, ast, maps: frozenset[str], root: str | None = None):
        self.ast, self.maps, self.root = ast, maps, root
        self._regex: dict[str, re.Pattern] = {}

    def __call__(self, datum) -> bool:
        return self._eval(self.ast, datum, {})

    def _missing(self, path, i, part):
        return BexprError(
            f"error finding value in datum: {_pointer_text(path)} at part {i}: "
            f'couldn\'t find key: struct field with name "{part}"'
        )

    # Walks the JSON with the Go kind of each step (FIELDS) when the root type is known, so a map
    # tells from a struct and a field the JSON omits reads as its zero value.
    def _get(self, datum, path, local):
        if path and path[0] in local:
            bound = local[path[0]]
            if isinstance(bound, tuple) and bound[0] == "path":
                path = (*bound[1], *path[1:])
            else:
                if len(path) > 1:
                    raise BexprError(
                        f"{_pointer_text(path[:1])} references a {type(bound).__name__} so {_pointer_text(path)} is invalid"
                    )
                return bound, True
        cur = datum
        kind = f"struct:{self.root}" if self.root else None
        for i, part in enumerate(path):
            is_map = kind.startswith("map:") if kind else None
            if cur is None and is_map:
                cur = {}  # a nil Go map reads like an empty one
            if isinstance(cur, dict) and not is_map:
                fields = FIELDS.get(kind.split(":", 1)[1]) if kind and kind.startswith(("struct:", "object:")) else None
                if fields is not None:
                    if part not in fields:
                        raise self._missing(path, i, part)
                    sub = fields[part]
                    cur = cur[part] if part in cur else _zero(sub)
                    kind = sub
                elif part in cur:
                    cur = cur[part]
                    kind = "map:?" if (kind is None and part in self.maps) else None
                else:
                    raise self._missing(path, i, part)
            elif isinstance(cur, dict):
                if part not in cur:
                    if i == len(path) - 1:
                        return None, False  # a missing map key: "not present"
                    raise BexprError(
                        f"error finding value in datum: {_pointer_text(path)} at part {i}: couldn't find key {part!r}"
                    )
                cur = cur[part]
                kind = kind.split(":", 1)[1] if kind and kind != "map:?" else None
            elif isinstance(cur, list):
                if not re.fullmatch(r"-?\d+", part):
                    raise BexprError(
                        f"error finding value in datum: {_pointer_text(path)} at part {i}: couldn't convert value"
                    )
                idx = int(part)
                if not 0 <= idx < len(cur):
                    raise BexprError(
                        f"error finding value in datum: {_pointer_text(path)} at part {i}: "
                        f"index {idx} is out of range (length = {len(cur)})"
                    )
                cur = cur[idx]
                kind = kind.split(":", 1)[1] if kind and kind.startswith("array:") else None
            else:
                raise BexprError(
                    f"error finding value in datum: {_pointer_text(path)}: at part {i}, "
                    f"invalid value kind: {'invalid' if cur is None else _kind(cur)}"
                )
        return cur, True

    def _eval(self, node, datum, local) -> bool:
        if isinstance(node, Binary):
            left = self._eval(node.left, datum, local)
            if node.op == "and":
                return left and self._eval(node.right, datum, local)
            return left or self._eval(node.right, datum, local)
        if isinstance(node, Unary):
            return not self._eval(node.operand, datum, local)
        if isinstance(node, Collection):
            return self._collection(node, datum, local)
        return self._match(node, datum, local)

    def _collection(self, node: Collection, datum, local) -> bool:
        val, present = self._get(datum, node.selector.path, local)
        if not present:
            return node.op == "all"
        default, index_name, value_name = node.names
        if index_name and index_name == value_name:
            raise BexprError(f'"{index_name}" cannot be used as a placeholder for both the index and the value')
        if isinstance(val, dict):
            items = [(k, ("path", (*node.selector.path, k))) for k in val]
        elif isinstance(val, list):
            items = [(i, ("path", (*node.selector.path, str(i)))) for i in range(len(val))]
        else:
            raise BexprError(f"{node.op} is not supported on {_kind(val)}")
        for key, path in items:
            inner = dict(local)
            if isinstance(val, dict):
                if default:
                    inner[default] = key
                if index_name:
                    inner[index_name] = key
                if value_name:
                    inner[value_name] = path
            else:
                if index_name:
                    inner[index_name] = key
                if default or value_name:
                    inner[default or value_name] = path
            hit = self._eval(node.inner, datum, inner)
            if node.op == "any" and hit:
                return True
            if node.op == "all" and not hit:
                return False
        return node.op == "all"

    @staticmethod
    def _coerce(raw: str, kind: str):
        try:
            if kind == "bool":
                if raw in ("1", "t", "T", "TRUE", "true", "True"):
                    return True
                if raw in ("0", "f", "F", "FALSE", "false", "False"):
                    return False
                raise ValueError
            if kind == "int64":
                return int(raw, 0) if not re.fullmatch(r"-?0\d+", raw) else int(raw, 8)
            if kind == "float64":
                return float(raw)
        except ValueError:
            go = {"bool": "ParseBool", "int64": "ParseInt", "float64": "ParseFloat"}[kind]
            raise BexprError(
                f'error getting match value in expression: strconv.{go}: parsing "{raw}": invalid syntax'
            ) from None
        return raw

    def _match(self, node: Match, datum, local) -> bool:
        val, present = self._get(datum, node.selector.path, local)
        op = node.op
        if not present:
            return op in ("!=", "not in", "is empty", "not matches", "is nil")
        negate = op in ("!=", "not in", "is not empty", "not matches", "is not nil")
        base = {
            "!=": "==",
            "not in": "in",
            "is not empty": "is empty",
            "not matches": "matches",
            "is not nil": "is nil",
        }
        op = base.get(op, op)
        kind = _kind(val)
        if op == "==":
            if kind not in ("bool", "int64", "float64", "string"):
                raise BexprError("unable to find suitable primitive comparison function for matching")
            result = self._coerce(node.value, kind) == val
        elif op == "in":
            result = self._in(node, val, kind)
        elif op == "is empty":
            if val is None:
                result = True  # a nil map or slice has length 0
            elif kind in ("slice", "string") or isinstance(val, dict):
                result = len(val) == 0
            else:
                raise BexprError(f'cannot perform is-empty operations on type {kind} for selector: "{node.selector}"')
        elif op == "matches":
            if kind != "string":
                raise BexprError(f"value of type {kind} is not convertible to []byte")
            rx = self._regex.get(node.value)
            if rx is None:
                try:
                    rx = self._regex[node.value] = re.compile(node.value)
                except re.error as exc:
                    raise BexprError(f"failed to compile regular expression {node.value!r}: {exc}") from None
            result = rx.search(val) is not None
        else:  # is nil
            if val is None:
                result = True
            elif isinstance(val, dict | list):
                result = False
            else:
                raise BexprError(f'cannot perform is-nil operations on type {kind} for selector: "{node.selector}"')
        return result != negate

    def _in(self, node: Match, val, kind: str) -> bool:
        if val is None:
            return False  # a nil map or slice holds nothing
        if isinstance(val, dict):
            return node.value in val
        if kind == "string":
            return node.value in val
        if kind == "slice":
            for item in val:
                ik = _kind(item)
                if ik not in ("bool", "int64", "float64", "string"):
                    raise BexprError('unable to find suitable primitive comparison function for "in" comparison')
                try:
                    if self._coerce(node.value, ik) == item:
                        return True
                except BexprError:
                    continue
            return False
        raise BexprError(f'cannot perform in/contains operations on type {kind} for selector: "{node.selector}"')


def selector_roots(expr: str | None) -> set[str] | None:
    """The top-level fields a filter reads (None without a filter or when it does not parse), so a
    server can skip rendering what the filter never looks at."""
    if not expr or not expr.strip():
        return None
    try:
        ast = parse(expr)
    except BexprError:
        return None
    roots: set[str] = set()

    def walk(node, bound):
        if isinstance(node, Binary):
            walk(node.left, bound)
            walk(node.right, bound)
        elif isinstance(node, Unary):
            walk(node.operand, bound)
        elif isinstance(node, Collection):
            if node.selector.path and node.selector.path[0] not in bound:
                roots.add(node.selector.path[0])
            walk(node.inner, bound | {n for n in node.names if n})
        elif node.selector.path and node.selector.path[0] not in bound:
            roots.add(node.selector.path[0])

    walk(ast, frozenset())
    return roots


def compile_filter(
    expr: str | None,
    *,
    maps: frozenset[str] = NOMAD_MAP_KEYS,
    root: str | None = None,
    parse_prefix: str = "failed to read filter expression: ",
    eval_prefix: str = "",
) -> Callable[[dict], bool] | None:
    """A predicate over one JSON object, or None without a filter. Errors are HTTP 400s with
    the given prefixes (Nomad's paginator wraps parse and evaluation errors differently).
    ``root``: the Nomad struct the objects are (e.g. "Allocation"), so fields follow Go's types."""
    if not expr or not expr.strip():
        return None
    try:
        ev = _Evaluator(parse(expr), maps, root if root in FIELDS else None)
    except BexprError as exc:
        raise HTTPError(400, f"{parse_prefix}{exc}") from None

    def predicate(obj) -> bool:
        try:
            return ev(obj)
        except BexprError as exc:
            raise HTTPError(400, f"{eval_prefix}{exc}") from None

    return predicate
