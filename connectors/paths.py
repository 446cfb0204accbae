"""Validation and escaping of values that end up inside a URL path.

Every ID or name placed in a path goes through `segment()` (or
`alloc_id()`), which raises `InvalidInput` (a `NotFound` and a `ValueError`)
*before* any HTTP request for:
  * empty values, values longer than MAX_LEN characters,
  * control characters (including newlines and NUL),
  * `.` / `..` path segments or anything containing `../` or `..\\`,
  * already-escaped separators (`%2F`, `%5C`, `%2E%2E`, any `%` escape of a
    slash/backslash/dot), which would be decoded a second time somewhere.
Everything else is escaped with `urllib.parse.quote(safe="")`, so a job ID
such as `batch/dispatch-1` becomes `batch%2Fdispatch-1` (Nomad decodes it
back) and unicode is sent as UTF-8 percent-escapes.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from typing import TypeGuard

from .errors import InvalidInput

__all__ = ["MAX_LEN", "UUID_RE", "alloc_id", "check_name", "is_uuid", "segment"]

MAX_LEN = 128
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ESCAPED_SEPARATOR = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…'"


def check_name(value: object, what: str, source: str = "Nomad") -> str:
    """Return `value` if it is safe to put in a path (unescaped), else raise InvalidInput."""
    if not isinstance(value, str):
        raise InvalidInput(source, f"{what} must be text, not {type(value).__name__}")
    if value == "":
        raise InvalidInput(source, f"The {what} is empty")
    if len(value) > MAX_LEN:
        raise InvalidInput(source, f"The {what} is too long ({len(value)} characters; at most {MAX_LEN})")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise InvalidInput(source, f"The {what} {_shown(value)} contains control characters")
    parts = re.split(r"[/\\]", value)
    if any(p in (".", "..") for p in parts):
        raise InvalidInput(source, f"The {what} {_shown(value)} is not a valid name (it contains '..' or '.')")
    if _ESCAPED_SEPARATOR.search(value):
        raise InvalidInput(
            source, f"The {what} {_shown(value)} is not a valid name (it contains an escaped '/', '\\' or '.')"
        )
    return value


def segment(value: object, what: str, source: str = "Nomad") -> str:
    """Validate `value` and return it escaped as one URL path segment."""
    return urllib.parse.quote(check_name(value, what, source), safe="")


def is_uuid(value: object) -> TypeGuard[str]:
    """True for a full Nomad/Consul UUID (any case, surrounding spaces ignored), e.g. a full allocation ID."""
    return isinstance(value, str) and UUID_RE.match(value.strip().lower()) is not None


def alloc_id(value: object, source: str = "Nomad") -> str:
    """An allocation ID must be the full lower-case UUID (alloc endpoints reject prefixes)."""
    if not is_uuid(value):
        shown = _shown(value) if isinstance(value, str) else type(value).__name__
        raise InvalidInput(
            source,
            f"{shown} is not a full Nomad allocation ID (expected a UUID like 5456bd7a-9fc0-c0dd-6131-cbee77f57577)",
        )
    return value.strip().lower()
