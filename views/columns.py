"""Column helpers shared by the frame builders (one module per resource: ``views.jobs``,
``views.allocations``, ``views.deployments``, ``views.nodes``, ``views.services``, ``views.checks``,
``views.namespaces``).

Built for speed: each builder makes one pass of plain Python comprehensions over the raw dicts,
then these turn each column into a numpy array once. ``null`` anywhere a list/map is expected
becomes empty; Nomad times are integer nanoseconds (0 = unset) or RFC3339 strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .schema import SCHEMAS

INAT = np.iinfo(np.int64).min  # NaT as int64


def utc_now(now: Any) -> pd.Timestamp:
    """``now`` as a tz-aware UTC Timestamp (naive = UTC; None = the current time)."""
    ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def times(vals: Sequence[Any]) -> pd.DatetimeIndex:
    """Nomad times -> tz-aware UTC. Ints are nanoseconds (0/None = NaT); strings are RFC3339."""
    try:
        arr = np.array(vals, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return _times_mixed(vals)
    arr[arr <= 0] = INAT
    return pd.DatetimeIndex(arr.view("M8[ns]")).tz_localize("UTC")


def _times_mixed(vals: Sequence[Any]) -> pd.DatetimeIndex:
    out = np.full(len(vals), INAT, dtype=np.int64)
    str_pos, strs = [], []
    for i, v in enumerate(vals):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            if v > 0:
                out[i] = int(v)
        elif isinstance(v, str) and v:
            str_pos.append(i)
            strs.append(v)
    if strs:
        parsed = pd.to_datetime(pd.Series(strs, dtype=object), utc=True, format="ISO8601", errors="coerce")
        out[np.array(str_pos, dtype=np.int64)] = parsed.to_numpy(dtype="M8[ns]").view(np.int64)
    return pd.DatetimeIndex(out.view("M8[ns]")).tz_localize("UTC")


def str_times(vals: Sequence[Any]) -> pd.DatetimeIndex:
    """RFC3339 strings (None/'' = NaT; Go's zero time is out of range -> NaT)."""
    if not any(vals):
        return pd.DatetimeIndex(np.full(len(vals), INAT, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")
    return _times_mixed(vals)


def objs(vals: Sequence[Any]) -> np.ndarray:
    """Object array holding the given Python objects as-is (safe for lists)."""
    a = np.empty(len(vals), dtype=object)
    for i, v in enumerate(vals):
        a[i] = v
    return a


def filled(n: int, value: Any) -> np.ndarray:
    """Object array of n references to one value. ``np.full(n, "x", dtype=object)`` converts the
    string through a fixed-width array and stores n separate copies (~50 bytes each: 27 MB for one
    column of 550,000 task events)."""
    a = np.empty(n, dtype=object)
    a.fill(value)
    return a


def cat(vals: Any) -> pd.Categorical:
    """A str column as a categorical of its sorted distinct values: one small integer per row (1-2
    bytes, not an 8-byte pointer), for the big frames' columns of few values (``views.schema``: CAT).
    The categories are exactly the values present, sorted: what ``Series.astype("category")`` gives,
    so frames built and frames patched (``concat``) are equal."""
    codes, uniques = pd.factorize(np.asarray(vals, dtype=object), sort=True)
    return pd.Categorical.from_codes(codes, categories=uniques, validate=False)


def cat_filled(n: int, value: str) -> pd.Categorical:
    """A categorical of n times one value."""
    if not n:
        return cat([])
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value], validate=False)


def cat_take(source: pd.Categorical, at: np.ndarray) -> pd.Categorical:
    """``source``'s values at the positions ``at`` (codes taken, categories not present dropped)."""
    return _present(pd.Categorical.from_codes(source.codes[at], dtype=source.dtype, validate=False))


def cat_repeat(source: pd.Categorical, counts: np.ndarray) -> pd.Categorical:
    """Each value of ``source`` ``counts`` times (categories not present dropped)."""
    return _present(pd.Categorical.from_codes(np.repeat(source.codes, counts), dtype=source.dtype, validate=False))


def _present(c: pd.Categorical) -> pd.Categorical:
    """``c`` without the categories no row holds (codes renumbered, order kept)."""
    k = len(c.categories)
    if not k:
        return c
    codes = c.codes
    known = codes >= 0  # -1: a missing value (the builders leave none; conform may)
    has_missing = not known.all()
    used = np.bincount(codes[known] if has_missing else codes, minlength=k) > 0
    if used.all():
        return c
    renumber = np.cumsum(used) - 1
    new = np.where(known, renumber[codes], -1) if has_missing else renumber[codes]
    return pd.Categorical.from_codes(new, categories=c.categories[used], validate=False)


def gather(a: pd.DataFrame, b: pd.DataFrame, spans: list[tuple[int, int, int]]) -> pd.DataFrame:
    """The rows ``a[start:stop]`` (source 0) or ``b[start:stop]`` (source 1) of each span in order,
    ``a``'s columns and dtypes: ``pd.concat`` of those slices, column by column in numpy (hundreds of
    slices of a 550,000-row frame cost pandas a dtype comparison each, categories compared whole).
    A categorical column gets the categories of both, then only those present, sorted (as ``cat``
    builds them: a patched frame equals one built from scratch)."""

    def take(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        parts = [(y if src else x)[start:stop] for src, start, stop in spans]
        return np.concatenate(parts) if parts else x[:0]

    out = {}
    for c in a.columns:
        x, y = a[c], b[c]
        dt = x.dtype
        if isinstance(dt, pd.CategoricalDtype):
            cx, cy = x.array, y.array if isinstance(y.dtype, pd.CategoricalDtype) else cat(y.to_numpy())
            cats = dt.categories
            ycodes = cats.get_indexer(cy.categories)
            if (ycodes < 0).any():  # a value new to ``a``: united categories, sorted
                cats = pd.Index(sorted(set(cats) | set(cy.categories)), dtype=object)
                xcodes = cats.get_indexer(dt.categories)[cx.codes]
                ycodes = cats.get_indexer(cy.categories)
            else:
                xcodes = cx.codes
            codes = take(xcodes.astype(np.int32, copy=False), ycodes[cy.codes].astype(np.int32, copy=False))
            out[c] = _present(pd.Categorical.from_codes(codes, categories=cats, validate=False))
        elif isinstance(dt, pd.DatetimeTZDtype):
            out[c] = pd.DatetimeIndex(take(x.array.asi8, y.array.asi8).view("M8[ns]")).tz_localize(dt.tz)
        elif isinstance(dt, np.dtype):
            out[c] = take(x.to_numpy(), y.to_numpy().astype(dt, copy=False))
        else:  # another extension type: pandas' own concatenation
            out[c] = pd.concat([x, y.astype(dt)], ignore_index=True).to_numpy()[
                take(np.arange(len(x)), np.arange(len(x), len(x) + len(y)))
            ]
    return pd.DataFrame(out, copy=False)


def strs(vals: Sequence[Any]) -> np.ndarray:
    return np.array(vals, dtype=object) if vals else np.empty(0, dtype=object)


def frame(name: str, cols: Mapping[str, Any]) -> pd.DataFrame:
    """Assemble a frame from ready columns in schema order with the schema dtypes."""
    schema = SCHEMAS[name]
    data = {}
    for col, dtype in schema.items():
        v = cols[col]
        if dtype == "object":
            data[col] = v if isinstance(v, np.ndarray) else strs(v)
        elif dtype == "category":
            data[col] = v if isinstance(v, pd.Categorical) else cat(v)
        elif dtype == "int64":
            data[col] = np.asarray(v, dtype=np.int64)
        elif dtype == "bool":
            data[col] = np.asarray(v, dtype=bool)
        elif dtype == "boolean":
            data[col] = pd.array(v, dtype="boolean")
        else:
            data[col] = v
    df = pd.DataFrame(data, copy=False)
    return df


def text(v: Any) -> str:
    """A string field (None -> '')."""
    return v if isinstance(v, str) else ("" if v is None else str(v))


def list_of(v: Any) -> list:
    """A list field (null or another type -> [])."""
    return list(v) if isinstance(v, (list, tuple)) else []


def dict_of(v: Any) -> dict:
    """A map field (null or another type -> {})."""
    return v if isinstance(v, dict) else {}


def records(raw: Any) -> list:
    """A list body's objects (anything that is not an object is skipped; not a list -> [])."""
    if isinstance(raw, list):
        return [x for x in raw if isinstance(x, dict)] if not all(isinstance(x, dict) for x in raw) else raw
    return []


def strcol(vals: Sequence[Any]) -> np.ndarray:
    """Object array of str; None (and other non-str) -> ''."""
    a = np.array(vals, dtype=object)
    if a.ndim != 1:  # pathological values (lists) -> coerce one by one
        return strs([v if isinstance(v, str) else "" for v in vals])
    if None in vals:
        a[np.array([v is None for v in vals], dtype=bool)] = ""
    return a


def ints(vals: Sequence[Any]) -> np.ndarray:
    try:
        return np.array(vals, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.array([v if isinstance(v, int) else 0 for v in vals], dtype=np.int64)
