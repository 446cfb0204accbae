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
