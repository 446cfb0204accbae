"""Client-health row additions from the versions and residency views (pure; no streamlit import).

``annotate`` returns a copy of the clients frame with two more columns and the reason extended:

* ``residency``: '' (nothing to say), ``forbidden``, ``unknown`` or ``no policy`` (views.residency);
* ``behind``: 'behind: web 1.2.0 (newest 1.4.0)' or '' (views.versions).

The reason gets the residency words first (a compliance matter), then "behind"; the status and
rank stay as the health rules made them, so the worst-first order does not change.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def annotate(
    clients: pd.DataFrame,
    *,
    behind: Mapping[tuple[str, str], str] | None = None,
    residency: Mapping[tuple[str, str], tuple[str, str]] | None = None,
) -> pd.DataFrame:
    behind = behind or {}
    residency = residency or {}
    out = clients.copy()
    keys = list(zip(out["cluster"].tolist(), out["client"].tolist())) if len(out) else []
    flags, extra, reasons = [], [], []
    for key, reason in zip(keys, out["reason"].tolist() if len(out) else []):
        flag, words = residency.get(key, ("", ""))
        lag = behind.get(key, "")
        flags.append(flag)
        extra.append(lag)
        # residency first: a compliance finding must stay in the cell when long reasons are shortened
        reasons.append("; ".join(r for r in (words, reason, lag) if r))
    out["residency"] = pd.Series(flags, index=out.index, dtype=object)
    out["behind"] = pd.Series(extra, index=out.index, dtype=object)
    out["reason"] = pd.Series(reasons, index=out.index, dtype=object)
    return out
