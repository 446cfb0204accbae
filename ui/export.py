"""CSV downloads that are safe to open in a spreadsheet (pure; no streamlit import).

Values from the cluster (job names, versions, tags) can start with ``=``, ``+``, ``-`` or ``@``;
a spreadsheet would run them as a formula (CSV injection, OWASP). Such text cells get a leading
apostrophe. Lists become ``a; b``, times ISO 8601 UTC.
"""

from __future__ import annotations

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v):
    if isinstance(v, (list, tuple, set)):
        v = "; ".join(str(x) for x in v)
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def csv_bytes(df: pd.DataFrame) -> bytes:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].map(lambda t: "" if pd.isna(t) else t.isoformat())
        elif out[col].dtype == object:
            out[col] = out[col].map(_cell)
    return out.to_csv(index=False).encode("utf-8")
