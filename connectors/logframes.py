"""Decoding Nomad's framed log stream (pure; no HTTP).

GET /v1/client/fs/logs/:alloc (without plain=true) answers with JSON objects
written back to back, no array and no separator:
    {"Offset":N,"Data":"<base64>","File":"alloc/logs/web.stdout.0"}
    {"File":"alloc/logs/web.stdout.0","FileEvent":"file truncated"}
    {}                                  <- heartbeat, about once a second
`FrameDecoder` takes bytes as they arrive; `decode_frames(body)` does a whole
body at once.  Malformed input raises `ValueError`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
from dataclasses import dataclass, field

__all__ = ["MAX_PENDING", "DecodedLogs", "FrameDecoder", "decode_frames"]

# A frame carries at most 64 KiB of data (about 88 KiB of base64); anything
# much bigger without a complete JSON object is not a frame stream.
MAX_PENDING = 512 * 1024

_WS = " \t\r\n"


@dataclass
class DecodedLogs:
    data: bytes = b""
    events: list[tuple[str, str]] = field(default_factory=list)  # (file, event)
    frames: int = 0
    heartbeats: int = 0

    def text(self) -> str:
        """The log bytes as text; a tail cut inside a UTF-8 character loses just that character."""
        text = self.data.decode("utf-8", errors="replace")
        return text.lstrip("\ufffd")


class FrameDecoder:
    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._buf = ""
        self._decoder = json.JSONDecoder()
        self._chunks: list[bytes] = []
        self.result = DecodedLogs()

    def feed(self, chunk: bytes | str) -> None:
        if isinstance(chunk, bytes):
            try:
                chunk = self._utf8.decode(chunk)
            except UnicodeDecodeError as err:
                raise ValueError(f"log stream is not UTF-8 JSON: {err}") from err
        self._buf += chunk
        self._drain()

    def _drain(self) -> None:
        buf, pos, n = self._buf, 0, len(self._buf)
        while True:
            while pos < n and buf[pos] in _WS:
                pos += 1
            if pos >= n:
                break
            if buf[pos] != "{":
                raise ValueError(f"log stream has {buf[pos]!r} where a frame should start (offset {pos})")
            try:
                frame, end = self._decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                if n - pos > MAX_PENDING:
                    raise ValueError("log stream has an over-long or broken frame") from None
                break  # incomplete frame: wait for more bytes
            self._frame(frame)
            pos = end
        self._buf = buf[pos:]

    def _frame(self, frame: object) -> None:
        if not isinstance(frame, dict):
            raise ValueError("log frame is not a JSON object")
        if not frame:
            self.result.heartbeats += 1
            return
        self.result.frames += 1
        event = frame.get("FileEvent")
        if event:
            self.result.events.append((str(frame.get("File", "")), str(event)))
            marker = f"\n--- Nomad: {event} ({frame.get('File', '')}) ---\n"
            self._chunks.append(marker.encode())
        data = frame.get("Data")
        if data:
            try:
                self._chunks.append(base64.b64decode(data, validate=True))
            except (binascii.Error, ValueError, TypeError) as err:
                raise ValueError(f"log frame Data is not base64: {err}") from err

    def close(self, *, complete: bool = True) -> DecodedLogs:
        """Finish.  With complete=True, leftover bytes mean a truncated/garbled stream -> ValueError."""
        if complete and self._buf.strip(_WS):
            raise ValueError("log stream ended in the middle of a frame")
        self.result.data = b"".join(self._chunks)
        return self.result


def decode_frames(body: bytes | str) -> DecodedLogs:
    """Decode a whole framed log body."""
    dec = FrameDecoder()
    dec.feed(body)
    return dec.close()
