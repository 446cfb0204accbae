"""Small phrases a support person reads, shared by the snapshot's problem lines and the pages."""

from __future__ import annotations


def ago_words(seconds: float | None) -> str:
    """4 -> '4 s ago', 300 -> '5 min ago', 7300 -> '2 h 1 min ago', 90000 -> '1 d 1 h ago', None -> 'never'."""
    if seconds is None or seconds != seconds:  # None or NaN
        return "never"
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min ago"
    return f"{s // 86400} d {s % 86400 // 3600} h ago"
