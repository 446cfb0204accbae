"""Hold a JSON body against the source-level key lists in ``../shared/reference/structs/``.

Pure functions, no I/O. The rules are the ones the structs README states under "How to use":
an item is faithful when its keys equal the struct's keys (``encoded_fields`` of a MarshalJSON
or encoding extension when present, else ``fields``) minus the omitempty keys whose values are
empty, and every value has the listed kind, or is ``null`` where the Go type is nullable. Applied
recursively through ``object:<Type>``, arrays and map values. Both directions count: a missing
key, an extra key, a wrong kind, a null where the Go type cannot be nil, and a zero value sent
for an omitempty key (the encoder would have left it out) are all problems.

A problem is ``(type_name, key, message)``; ``allowed`` maps ``(type_name, key)`` to the reason
for a deliberate difference, and matching problems are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ZERO_TIME = "0001-01-01T00:00:00Z"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


@dataclass(frozen=True)
class Problem:
    path: str
    type_name: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


class Reference:
    """One structs file (``nomad.json`` or ``consul.json``) and its encoder's omitempty rule."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.types: dict = doc["types"]
        self.endpoints: dict = doc["endpoints"]
        # Nomad's codec also leaves out zero struct values; encoding/json never does.
        self.codec = "msgpack" in str(doc.get("encoding", {}).get("encoder", ""))

    def fields(self, type_name: str) -> list[dict] | None:
        t = self.types.get(type_name)
        if t is None or t.get("unresolved"):
            return None
        for alt in ("marshal", "extension"):
            if t.get(alt, {}).get("encoded_fields"):
                return t[alt]["encoded_fields"]
        return t.get("fields")


def _json_kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def is_empty(ref: Reference, v, kind: str) -> bool:
    """The value the encoder's omitempty would leave out."""
    if v is None or v is False or v == 0 or v == "" or v == [] or v == ZERO_TIME:
        return True
    if isinstance(v, dict) and not v:
        return kind.startswith("map:") or ref.codec
    if isinstance(v, dict) and ref.codec and kind.startswith("object:"):
        fields = {f["key"]: f["kind"] for f in ref.fields(kind[7:]) or []}
        return all(is_empty(ref, x, fields.get(k, "any")) for k, x in v.items())
    return False


def check_value(ref: Reference, v, field: dict, path: str, owner: str, out: list[Problem]) -> None:
    kind, key = field["kind"], field.get("key", "")
    if v is None:
        if not field.get("nullable"):
            out.append(Problem(path, owner, key, f"null, but {field.get('go', kind)} is never nil"))
        return
    if kind == "any":
        return
    base = kind.split(":", 1)[0]
    got = _json_kind(v)
    want = {"map": "object"}.get(base, base)
    if got != want:
        out.append(Problem(path, owner, key, f"expected {kind}, got {got} ({v!r:.40})"))
        return
    fmt = field.get("format")
    if fmt == "rfc3339" and not _RFC3339.match(v):
        out.append(Problem(path, owner, key, f"not an RFC 3339 time: {v!r:.40}"))
    if fmt == "base64" and not _BASE64.match(v):
        out.append(Problem(path, owner, key, f"not base64: {v!r:.40}"))
    if fmt == "duration-ns" and not isinstance(v, int):
        out.append(Problem(path, owner, key, f"not integer nanoseconds: {v!r}"))
    if base == "object":
        check_item(ref, v, kind[7:], path, out)
    elif base in ("array", "map"):
        inner = {"kind": kind.split(":", 1)[1], "nullable": True, "key": key}
        items = enumerate(v) if base == "array" else v.items()
        for k, x in items:
            if base == "array" and inner["kind"].startswith("object:") and x is None:
                continue  # a nil element pointer is legal Go, and rare
            check_value(ref, x, inner, f"{path}[{k}]", owner, out)


def check_item(ref: Reference, obj, type_name: str, path: str = "", out: list[Problem] | None = None) -> list[Problem]:
    """Problems of one JSON object against the struct ``type_name``."""
    out = [] if out is None else out
    if not isinstance(obj, dict):
        out.append(Problem(path, type_name, "", f"expected object {type_name}, got {_json_kind(obj)}"))
        return out
    fields = ref.fields(type_name)
    if fields is None:
        return out  # unresolved type: only its kind (object) is known
    by_key = {f["key"]: f for f in fields}
    for k in obj:
        if k not in by_key:
            out.append(Problem(f"{path}.{k}", type_name, k, f"extra key (not in {type_name})"))
    for k, f in by_key.items():
        sub = f"{path}.{k}"
        if k not in obj:
            if not f.get("omitempty"):
                out.append(Problem(sub, type_name, k, "missing"))
            continue
        v = obj[k]
        if f.get("omitempty") and is_empty(ref, v, f["kind"]):
            out.append(Problem(sub, type_name, k, f"zero value {v!r:.30} sent, the encoder leaves it out"))
            continue
        check_value(ref, v, f, sub, type_name, out)
    return out


def check_variant(obj: dict, rules: dict, path: str, owner: str, out: list[Problem]) -> None:
    """The effect of a query flag on one list item (``variants`` in the endpoints table)."""
    for key, rule in rules.items():
        v = obj.get(key)
        if rule in ("null", "null-or-absent"):
            # Release builds send the key (json tags are ignored), so "absent" is a dev build.
            if v is not None:
                out.append(Problem(f"{path}.{key}", owner, key, f"expected null without the flag, got {v!r:.40}"))
        elif rule in ("present", "object"):
            if v is None:
                out.append(Problem(f"{path}.{key}", owner, key, f"expected {rule} with the flag, got null"))
        elif rule.startswith("object-with-keys:"):
            want = set(rule.split(":", 1)[1].split(","))
            if not isinstance(v, dict) or set(v) != want:
                out.append(Problem(f"{path}.{key}", owner, key, f"expected exactly keys {sorted(want)}, got {v!r:.60}"))


def variant_rules(endpoint: dict, flags: tuple[str, ...] = ()) -> dict:
    """Rules for a request with ``flags`` (e.g. ``("resources=true",)``): the base, then each flag."""
    variants = endpoint.get("variants", {})
    rules = dict(variants.get("", {}))
    for f in flags:
        if f in variants:
            rules.update(variants[f])
        else:  # e.g. meta=true has no entry of its own: its description names the keys it fills
            said = set(re.findall(r"\w+", endpoint.get("flags", {}).get(f, "")))
            rules = {k: r for k, r in rules.items() if k not in said}
    return rules


def check_endpoint(ref: Reference, name: str, body, flags: tuple[str, ...] = ()) -> list[Problem]:
    """Problems of a whole response body of endpoint ``name`` (e.g. ``"GET /v1/jobs"``)."""
    ep = ref.endpoints[name]
    out: list[Problem] = []
    item, shape = ep.get("item"), ep["shape"]
    if shape == "object":
        if body is None:
            return out
        items = [("", body)]
    elif shape == "list":
        if not isinstance(body, list):
            return [Problem("", item or "", "", f"expected a list, got {_json_kind(body)}")]
        items = [(f"[{i}]", x) for i, x in enumerate(body)]
    else:
        if not isinstance(body, dict):
            return [Problem("", item or "", "", f"expected a map, got {_json_kind(body)}")]
        items = [(f"[{k}]", x) for k, x in body.items()]
    rules = variant_rules(ep, flags)
    nonnull = set(ep.get("nonnull", ()))
    for path, x in items:
        if item is None:
            check_value(ref, x, {"kind": ep["value_kind"], "nullable": False, "key": ""}, path, "", out)
            continue
        check_item(ref, x, item, path, out)
        if isinstance(x, dict):
            check_variant(x, rules, path, item, out)
            for key in nonnull:
                if key in x and x[key] is None:
                    out.append(Problem(f"{path}.{key}", item, key, "null, the handler sends [] or {} instead"))
    return out


def drop_allowed(problems: list[Problem], allowed: dict[tuple[str, str], str]) -> list[Problem]:
    return [p for p in problems if (p.type_name, p.key) not in allowed]


def skeleton(ref: Reference, type_name: str, **values) -> dict:
    """A faithful item of ``type_name`` built from the key list alone: every key the encoder
    always sends, with its zero value (the zero time for times, nested struct values filled the
    same way, null for pointers, slices and maps), then ``values`` on top. For parser tests
    that must not lean on the sandbox's own idea of a body."""
    out = {}
    for f in ref.fields(type_name) or []:
        if f.get("omitempty"):
            continue
        kind = f["kind"]
        if f.get("format") == "rfc3339" and not f["nullable"]:
            out[f["key"]] = ZERO_TIME
        elif kind.startswith("object:") and not f["nullable"]:
            out[f["key"]] = skeleton(ref, kind[7:])
        elif f["nullable"]:
            out[f["key"]] = None
        else:
            out[f["key"]] = {"string": "", "number": 0, "bool": False}.get(kind)
    out.update(values)
    return out
