"""Parse big list bodies element by element, keeping only what the dashboard reads.

At 100,000 allocations the /v1/allocations?task_states=true body is ~340 MB of
JSON; parsed whole it becomes ~1 GB of Python objects (mostly ~500,000 task
events as 25-key dicts), and the text itself is another 340 MB.  The list
calls of the connectors can instead (``slim=True``):

* read the body in chunks and decode one list element at a time
  (``parse_list``), so neither the whole text nor the whole full-size object
  tree ever exists at once;
* rebuild each element with only the fields the views read (``slim_allocation``,
  ``slim_deployment``, ``slim_catalog_entry``, ``slim_check``): the same keys and values as the real
  API JSON, just fewer of them, so the result stays valid input for
  ``views.build_frames`` (a subset of the real shape), with one exception that
  the views read as well: a task's events are one flat tuple of their ``EVENT_FIELDS`` values,
  not dicts (``common.fields``: 56 bytes an event against ~270, ~550,000 of them);
* build each slimmed object as a key-sharing dict (``_rows``): a plain dict, but of a fixed key
  set the keys live once per kind, not once per object (PEP 412): 224 bytes where a plain
  19-key allocation dict takes 464, over 100,000 allocations, 37,000 deployments, 125,000
  Consul rows and 140,000 task states;
* share repeated strings (statuses, event types and messages, namespaces, node
  IDs, task names, ...), repeated integers (times: 550,000 task events carry about
  77,000 distinct ones at 100,000 allocations) and the few DeploymentStatus values
  through one memo per response (shared values are read-only, as all raw JSON is).
  Only ``str`` and ``int`` values are memo keys (never ``bool`` or ``float``: ``0 == False
  == 0.0`` would hand back a value of another type).

The field lists live in ``common.fields``, read by both this module and the views (connectors
import nothing else of ours; see docs/architecture.md); the contract test
``tests/contract/test_snapshot_slim.py`` checks that the views build exactly the
same frames from slimmed and from full JSON.  An element that does not have the
expected shape is kept as it came (never lose data over an optimisation).
"""

from __future__ import annotations

import codecs
import json
import operator
from collections.abc import Callable
from typing import Any

from common import gcpause
from common.fields import (
    ALLOC_FIELDS,
    ALLOC_SCALAR_FIELDS,
    CATALOG_FIELDS,
    CHECK_FIELDS,
    DEPLOYMENT_FIELDS,
    DEPLOYMENT_GROUP_FIELDS,
    EVENT_FIELDS,
    TASK_STATE_FIELDS,
)

__all__ = [
    "ALLOC_FIELDS",
    "CATALOG_FIELDS",
    "CHECK_FIELDS",
    "EVENT_FIELDS",
    "TASK_STATE_FIELDS",
    "Memo",
    "parse_list",
    "shared_json",
    "slim_allocation",
    "slim_catalog_entry",
    "slim_check",
    "slim_deployment",
]

Memo = dict[Any, Any]

# The field lists are written once, in common.fields (the views read exactly these).
_ALLOC_KEYS = ALLOC_SCALAR_FIELDS
_STATE_SCALARS = tuple(k for k in TASK_STATE_FIELDS if k != "Events")
_DS_KEY = object()  # memo keys of the shared DeploymentStatus dicts (no JSON value is this object)
_NO_HEALTH = object()


def _rows(kind: str) -> Callable[[], dict]:
    """A maker of empty dicts that share one key table (PEP 412 key-sharing dicts): an instance's
    ``__dict__`` of a class made for ``kind``. Each is an ordinary ``dict`` (equality, order, JSON,
    copies all as usual); only its keys are stored once per kind while every dict of it holds the
    same keys (at most 30; another key or a deletion turns that one dict into a plain one). Saves
    about half of each small dict's size: the slimmed lists are hundreds of thousands of them."""
    cls = type(f"_{kind}_row", (), {"__slots__": ("__dict__",)})
    return lambda: cls().__dict__


_alloc_dict = _rows("alloc")
_state_dict = _rows("task_state")
_deployment_dict = _rows("deployment")
_fields_dicts: dict[tuple, Callable[[], dict]] = {}
_task_dicts: dict[tuple, Callable[[], dict]] = {}  # by task names: a job's allocations share them
_TASK_KINDS = 1024  # task-name sets with their own key table at most (then plain dicts)


def _task_states_dict(names: tuple) -> dict:
    new = _task_dicts.get(names)
    if new is None:
        if len(_task_dicts) >= _TASK_KINDS:
            return {}
        new = _task_dicts.setdefault(names, _rows("task_states"))
    return new()


def _shared(memo: Memo, v: Any) -> Any:
    c = v.__class__
    return memo.setdefault(v, v) if c is str or c is int else v


def _slim_event(e: Any, m: Callable[[Any, Any], Any]) -> Any:
    if e.__class__ is not dict:
        return e
    out = {}
    for k in EVENT_FIELDS:  # an older/partial event keeps the fields it has
        if k in e:
            v = e[k]
            out[k] = m(v, v) if v.__class__ is str else v
    return out


_EVENT_ROW = operator.itemgetter(*EVENT_FIELDS)
# _event_values unpacks these seven by name: a field added to EVENT_FIELDS must be added there too.
assert EVENT_FIELDS == ("Time", "Type", "DisplayMessage", "Message", "ExitCode", "Signal", "FailsTask")


def _event_values(evs: list, m: Callable[[Any, Any], Any]) -> tuple:
    """A task's events as one flat tuple of their ``EVENT_FIELDS`` values, event after event
    (``common.fields.event_rows``): 56 bytes an event where a 7-key dict takes ~270 and a tuple per
    event ~100 (its header and the list's slot), over ~550,000 events at 100,000 allocations. A
    missing field is None. The time and the words are shared through the memo; the exit code and
    signal are small ints (one object each already) and the flag a bool, kept as they came: a
    third less time than sharing every value in a loop over the fields (~550,000 events a load)."""
    out: list = []
    add = out.extend
    try:
        for e in evs:
            t, kind, display, message, code, signal, fails = _EVENT_ROW(e)
            add(
                (
                    m(t, t) if t.__class__ is int else t,
                    m(kind, kind) if kind.__class__ is str else kind,
                    m(display, display) if display.__class__ is str else display,
                    m(message, message) if message.__class__ is str else message,
                    code,
                    signal,
                    fails,
                )
            )
    except KeyError:  # an older/partial event: its fields one by one, None where missing
        out = []
        for e in evs:
            for k in EVENT_FIELDS:
                v = e.get(k)
                c = v.__class__
                out.append(m(v, v) if c is str or c is int else v)
    return tuple(out)


def _slim_state(st: Any, memo: Memo) -> Any:
    if st.__class__ is not dict:
        return st
    out = _state_dict()
    for k in _STATE_SCALARS:
        if k in st:
            out[k] = _shared(memo, st[k])
    if "Events" in st:
        evs = st["Events"]
        if evs.__class__ is list:
            m = memo.setdefault
            if evs and all(e.__class__ is dict for e in evs):
                evs = _event_values(evs, m)
            else:  # an odd list (not only objects): its objects slimmed as objects, the rest as it came
                evs = [_slim_event(e, m) for e in evs]
        out["Events"] = evs
    return out


def slim_allocation(a: Any, memo: Memo | None = None) -> Any:
    """An allocation stub with only the fields the views read (task events: 7 fields)."""
    if a.__class__ is not dict:
        return a
    if memo is None:
        memo = {}
    try:
        out = _alloc_dict()
        for k, share in _ALLOC_KEYS:
            if k in a:
                v = a[k]
                out[k] = memo.setdefault(v, v) if share and (v.__class__ is str or v.__class__ is int) else v
        if "DeploymentStatus" in a:
            ds = a["DeploymentStatus"]
            if ds.__class__ is dict:  # one shared (read-only) dict per value: 100,000 dicts are 17 MB
                h = ds.get("Healthy", _NO_HEALTH)
                ds = memo.setdefault((_DS_KEY, h.__class__, h), {"Healthy": h} if h is not _NO_HEALTH else {})
            out["DeploymentStatus"] = ds
        if "TaskStates" in a:
            ts = a["TaskStates"]
            if ts.__class__ is dict:
                out_ts = _task_states_dict(tuple(ts))
                for name, st in ts.items():
                    out_ts[_shared(memo, name)] = _slim_state(st, memo)
                ts = out_ts
            out["TaskStates"] = ts
        return out
    except Exception:  # an unexpected shape: keep it whole
        return a


def shared_json(v: Any, memo: Memo) -> Any:
    """A list element kept whole, its keys and strings shared through the response's memo: the
    jobs list parsed element by element (``parse_list``) holds neither the whole body's text nor
    its own copy of every key (``json.loads`` shares keys within one document; one element at a
    time, each would have its own)."""
    return _shared_json(memo, v)


def _shared_json(memo: Memo, v: Any) -> Any:
    """Share the strings of a small JSON value (keys and values), e.g. ServiceMeta or ServiceTags."""
    c = v.__class__
    if c is str or c is int:
        return memo.setdefault(v, v)
    if c is dict:
        return {memo.setdefault(k, k): _shared_json(memo, x) for k, x in v.items()}
    if c is list:
        return [_shared_json(memo, x) for x in v]
    return v


def _slim_fields(e: Any, fields: tuple, memo: Memo) -> Any:
    if e.__class__ is not dict:
        return e
    new = _fields_dicts.get(fields)
    if new is None:
        new = _fields_dicts[fields] = _rows(str(len(_fields_dicts)))
    try:
        out = new()
        for k in fields:
            if k in e:
                out[k] = _shared_value(memo, _shared_json(memo, e[k]))
        return out
    except Exception:
        return e


_STR_MAP, _STR_LIST = object(), object()  # memo keys of shared maps and lists (no JSON value is these)


def _shared_value(memo: Memo, v: Any) -> Any:
    """One object per distinct map or list of strings in a response (ServiceMeta, ServiceTags: the
    instances of one client and version carry the same ones, 62,000 rows at 100,000 allocations);
    read-only, as all raw JSON is. Only all-string values are keys (``1 == True`` in a tuple)."""
    c = v.__class__
    if c is dict and v and all(x.__class__ is str for x in v.values()):
        return memo.setdefault((_STR_MAP, tuple(v.items())), v)
    if c is list and v and all(x.__class__ is str for x in v):
        return memo.setdefault((_STR_LIST, tuple(v)), v)
    return v


def slim_deployment(d: Any, memo: Memo | None = None) -> Any:
    """A deployment with only the fields the views and the deployment history read (of each task
    group: its counts and flags); ~1.7 KB each as Nomad sends it, 37,000 at 100,000 allocations."""
    if d.__class__ is not dict:
        return d
    if memo is None:
        memo = {}
    try:
        out = _deployment_dict()
        for k in DEPLOYMENT_FIELDS:
            if k in d:
                v = d[k]
                if k == "TaskGroups" and v.__class__ is dict:
                    v = {_shared(memo, name): _slim_fields(g, DEPLOYMENT_GROUP_FIELDS, memo) for name, g in v.items()}
                out[k] = _shared(memo, v)
        return out
    except Exception:  # an unexpected shape: keep it whole
        return d


def slim_catalog_entry(e: Any, memo: Memo | None = None) -> Any:
    """A Consul catalog entry with only the fields the views read."""
    return _slim_fields(e, CATALOG_FIELDS, {} if memo is None else memo)


def slim_check(c: Any, memo: Memo | None = None) -> Any:
    """A Consul health check with only the fields the views read."""
    return _slim_fields(c, CHECK_FIELDS, {} if memo is None else memo)


# ---------------------------------------------------------------------- streaming list parser

_WS = " \t\n\r"
CHUNK = 1 << 20


class _Buffer:
    """Decoded text read from `read(n)` in chunks; `pos` is where parsing is."""

    def __init__(self, read: Callable[[int], bytes], chunk: int):
        self._read = read
        self._dec = codecs.getincrementaldecoder("utf-8")()
        self.chunk = chunk
        self.text = ""
        self.pos = 0
        self.eof = False
        self.gc_held = False  # parse_list holds the GC pause while it decodes

    def more(self, n: int) -> None:
        """Append at least one more chunk (drops what was already parsed; `pos` becomes 0)."""
        if self.eof:
            return
        if self.gc_held:
            with gcpause.resumed():  # waiting for the socket is not decoding: other threads keep their GC
                data = self._read(n)
        else:
            data = self._read(n)
        head = self.text[self.pos :]
        if data:
            self.text = head + self._dec.decode(data)
        else:
            self.eof = True
            self.text = head + self._dec.decode(b"", final=True)
        self.pos = 0

    def skip_ws(self) -> int:
        """Skip whitespace (reading more as needed); returns the new pos (== len(text) only at EOF)."""
        while True:
            text, i, n = self.text, self.pos, len(self.text)
            while i < n and text[i] in _WS:
                i += 1
            self.pos = i
            if i < n or self.eof:
                return i
            self.more(self.chunk)

    def rest(self) -> str:
        while not self.eof:
            self.more(max(self.chunk, 8 * CHUNK))
        return self.text[self.pos :]


def parse_list(
    read: Callable[[int], bytes], element: Callable[[Any, Memo], Any] | None = None, *, chunk: int = CHUNK
) -> Any:
    """Decode a JSON body from `read(n) -> bytes` (b"" at the end), one list element at a time.

    Each element goes through `element(value, memo)` (one memo per body) as soon as it is
    decoded, so only one full-size element exists at a time.  A body that is not a list
    (null, an object) is decoded whole and returned as is.  Invalid JSON raises ValueError.
    """
    buf = _Buffer(read, chunk)
    while not buf.text and not buf.eof:
        buf.more(chunk)
    if buf.text.startswith("\ufeff"):
        buf.pos = 1
    i = buf.skip_ws()
    if i >= len(buf.text) or buf.text[i] != "[":
        return json.loads(buf.rest())  # not a list: small, decode it whole
    buf.pos = i + 1
    decode = json.JSONDecoder().raw_decode
    memo: Memo = {}
    out: list[Any] = []
    append = out.append
    gcpause.hold()  # millions of new containers, no cycles: the cyclic GC would walk them over and over
    buf.gc_held = True
    try:
        i = buf.skip_ws()
        if i < len(buf.text) and buf.text[i] == "]":
            buf.pos = i + 1
        else:
            need = chunk
            while True:
                start = buf.skip_ws()
                try:
                    value, end = decode(buf.text, start)
                except json.JSONDecodeError:
                    if buf.eof:
                        raise
                    buf.more(need)  # the element continues in the next chunk
                    need *= 2  # (a huge element: read more each time, not quadratically)
                    continue
                text = buf.text
                n = len(text)
                j = end
                while j < n and text[j] in _WS:
                    j += 1
                sep = text[j] if j < n else ""
                if sep != "," and sep != "]":
                    if buf.eof:
                        raise json.JSONDecodeError("Expecting ',' delimiter", text, j)
                    buf.more(need)  # not sure the element ended (a number cut by the chunk): decode it again
                    need *= 2
                    continue
                need = chunk
                append(element(value, memo) if element is not None else value)
                buf.pos = j + 1
                if sep == "]":
                    break
    finally:
        buf.gc_held = False
        gcpause.release()
    if buf.rest().strip(_WS):
        raise json.JSONDecodeError("Extra data", buf.text, buf.pos)
    return out
