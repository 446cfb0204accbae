"""Pure log helpers: split, filter by regular expression, tail.

Nothing here raises on user input. An invalid or over-long pattern keeps every
line (the page goes on showing the log) and says why in ``LogFilter.error``, a
sentence for the page that starts with "The filter". Patterns run on the ``regex``
package with a time limit for the whole filter, so a catastrophic pattern such as
``(a+)+$`` over a long line cannot hold a server thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import regex

MAX_PATTERN = 300
TIMEOUT_SECONDS = 1.0  # for all lines together
TOO_SLOW = "The filter took too long; simplify it."


@dataclass(frozen=True)
class LogFilter:
    lines: list[str] = field(default_factory=list)
    matched: int = 0  # lines kept (len(lines))
    total: int = 0  # lines before filtering
    error: str = ""  # "" when the pattern was fine

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def text(self) -> str:
        """The kept lines as one text (for display and download)."""
        return "\n".join(self.lines)


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
    timeout: float = TIMEOUT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> LogFilter:
    """Lines matching ``pattern`` (a regular expression, searched anywhere in the line).

    Surrounding blanks of the pattern are ignored; an empty pattern keeps every line.
    ``invert`` keeps the lines that do not match. An invalid or too long pattern keeps
    every line and sets ``error``; so does a filter that runs longer than ``timeout`` seconds
    (by ``clock``; each search also stops at the time left, by the regex engine's own clock).
    """
    if not isinstance(lines, list):
        lines = split_lines(lines)
    lines = list(lines)
    total = len(lines)
    pattern = pattern.strip() if isinstance(pattern, str) else ""
    if not pattern:
        return LogFilter(lines, total, total)
    if len(pattern) > MAX_PATTERN:
        return LogFilter(lines, total, total, f"The filter is longer than {MAX_PATTERN} characters.")
    try:
        rx = regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)
    except (regex.error, ValueError, OverflowError) as err:
        msg = getattr(err, "msg", str(err))
        pos = getattr(err, "pos", None)
        where = f" (at position {pos})" if pos is not None else ""
        return LogFilter(lines, total, total, f"The filter is not a valid regular expression: {msg}{where}.")
    search = rx.search
    deadline = clock() + timeout
    kept = []
    try:
        for ln in lines:
            left = deadline - clock()
            if left <= 0:
                raise TimeoutError
            if (search(ln, timeout=left) is None) == invert:
                kept.append(ln)
    except TimeoutError:
        return LogFilter(lines, total, total, TOO_SLOW)
    return LogFilter(kept, len(kept), total)
