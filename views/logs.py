"""Pure log helpers: split, filter by regular expression, tail.

Nothing here raises on user input: an invalid pattern comes back as
``LogFilter.error`` (a sentence for the page) with no lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PATTERN = 500


@dataclass(frozen=True)
class LogFilter:
    lines: list[str] = field(default_factory=list)
    matched: int = 0
    total: int = 0
    error: str = ""  # "" when the pattern was fine

    @property
    def ok(self) -> bool:
        return not self.error


def split_lines(text: str | bytes | None) -> list[str]:
    """Text (or bytes, decoded as UTF-8 with replacement) -> lines without line endings."""
    if text is None:
        return []
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    return text.splitlines()


def tail(lines: list[str] | str | bytes | None, n: int) -> list[str]:
    """The last ``n`` lines (``n <= 0`` gives none)."""
    if not isinstance(lines, list):
        lines = split_lines(lines)
    if n <= 0:
        return []
    return lines[-n:]


def filter_lines(
    lines: list[str] | str | bytes | None,
    pattern: str | None,
    *,
    ignore_case: bool = True,
    invert: bool = False,
) -> LogFilter:
    """Lines matching ``pattern`` (a regular expression, searched anywhere in the line).

    Empty pattern keeps every line. ``invert`` keeps the lines that do not match.
    """
    if not isinstance(lines, list):
        lines = split_lines(lines)
    total = len(lines)
    if not pattern:
        return LogFilter(list(lines), total, total)
    if len(pattern) > MAX_PATTERN:
        return LogFilter([], 0, total, f"The filter is too long (over {MAX_PATTERN} characters).")
    try:
        rx = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        return LogFilter([], 0, total, f"The filter is not a valid regular expression: {exc}.")
    search = rx.search
    kept = [ln for ln in lines if (search(ln) is None) == invert]
    return LogFilter(kept, len(kept), total)
