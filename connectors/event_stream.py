"""One /v1/event/stream subscription, read ahead of its consumer by its own thread.

A thread reads the stream as fast as Nomad sends it and queues each line for the consumer, which
parses it in ``next()``. The consumer (``snapshot.follower``) applies every frame already queued
before it acts once (re-reads, hand-over); ``pending()`` is how it knows. Reading line by line in the
consumer's own thread could only see what one HTTP chunk held: a consumer behind the server
(the replay after a load of 100,000 allocations, or the frames sent during one slow re-read)
then acted after every chunk of a few frames, and caught up at a few frames per re-read.

The queue is bounded by bytes (``QUEUED_BYTES``), and holds lines, not frames: one frame can
carry a deployment's thousand allocations, and a parsed frame is several times its line (with
1,000 parsed frames queued during the replay after a load, the dashboard's peak memory at 100,000
allocations was 739-807 MB in six runs; with lines, 710 and 728 in two: bench/README.md). A
consumer that falls further behind makes the reader wait, and TCP holds the rest back at the
server, as any slow reader would.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

import requests
import urllib3.exceptions

from ._common import Context, bad_json, from_exception
from .errors import BadResponse

__all__ = ["QUEUED_BYTES", "EventStream"]

QUEUED_BYTES = 8 * 1024 * 1024  # lines read ahead of the consumer at most (a line bigger is still read)
HEARTBEAT = b"{}"
_END = object()  # the stream ended (the server closed it, or close())


def lines(resp: requests.Response) -> Iterator[bytes]:
    """Lines of a long-lived body as soon as each one is complete: read1 returns what arrived
    (iter_lines would wait for a full chunk when the server closes instead of chunking). Blank
    lines are skipped."""
    raw, buf = resp.raw, b""
    while True:
        data = raw.read1(64 * 1024, decode_content=True)
        if not data:
            if buf.strip():
                yield buf
            return
        buf += data
        if b"\n" in buf:
            *complete, buf = buf.split(b"\n")
            yield from (line for line in complete if line.strip())


class EventStream:
    """Iterate for frames (``NomadConnector.stream_events``).

    ``close()`` is safe from any thread: it shuts the socket for reading, which wakes the reader
    blocked on the next line at once (closing the socket alone would not wake it), and wakes a
    consumer waiting for the next frame; the iteration ends quietly. A refresher being stopped
    must not wait for the next heartbeat. The request is made on the first ``next()``; its
    errors, and the stream's, are raised by ``next()`` as ConnectorError, in order.
    """

    def __init__(self, open_stream: Callable[[], requests.Response], ctx: Context, *, heartbeats: bool, addr: str):
        self._open = open_stream
        self._ctx = ctx
        self._heartbeats = heartbeats
        self._addr = addr
        self._lock = threading.Lock()
        self._resp: requests.Response | None = None
        self._closed = False
        self._ended = False
        self._queue: queue.Queue[Any] = queue.Queue()  # lines, then _END or an error
        self._room = threading.Condition()
        self._queued = 0  # bytes of the lines in the queue
        self._reader: threading.Thread | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def __iter__(self) -> EventStream:
        return self

    def pending(self) -> bool:
        """More frames have already arrived: the next one is handed out without waiting."""
        return not self._queue.empty()

    def __next__(self) -> dict[str, Any]:
        if self._closed or self._ended:
            raise StopIteration
        if self._reader is None:
            self._reader = threading.Thread(target=self._pump, name="nomad-event-reader", daemon=True)
            self._reader.start()
        item = self._queue.get()
        if isinstance(item, bytes):
            with self._room:
                self._queued -= len(item)
                self._room.notify()
        if item is _END or self._closed:
            self._ended = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        try:
            return self._parse(item)
        except Exception:
            self._ended = True
            self.close()  # the reader stops too: a stream that sent garbage is not followed further
            raise

    def _parse(self, line: bytes) -> dict[str, Any]:
        try:
            frame = json.loads(line)
        except ValueError as err:
            raise bad_json(self._ctx, err) from None
        if not isinstance(frame, dict):
            raise BadResponse("Nomad", f"Nomad at {self._addr} sent an event frame that is not an object.")
        return frame

    def close(self) -> None:
        with self._lock:
            self._closed = True
            resp, self._resp = self._resp, None
        if resp is not None:
            try:
                resp.raw.shutdown()  # wakes a read1 blocked in the reader
            except (AttributeError, ValueError, RuntimeError, OSError):
                pass
            resp.close()
        self._queue.put(_END)  # wakes a consumer waiting for the next frame
        with self._room:
            self._room.notify_all()  # and the reader waiting for room

    # ------------------------------------------------------------------ the reader thread

    def _pump(self) -> None:
        try:
            for line in self._lines():
                if not self._put(line):
                    return
        except Exception as err:  # a ConnectorError for the consumer (anything else: a bug, raised there too)
            self._queue.put(err)
            return
        self._queue.put(_END)

    def _put(self, line: bytes) -> bool:
        """Queue ``line`` for the consumer, waiting while the queue holds QUEUED_BYTES (an empty
        queue takes any line); False once closed."""
        with self._room:
            while self._queued and self._queued + len(line) > QUEUED_BYTES and not self._closed:
                self._room.wait(0.5)
            if self._closed:
                return False
            self._queued += len(line)
        self._queue.put(line)
        return True

    def _lines(self) -> Generator[bytes, None, None]:
        resp = self._open()
        with self._lock:
            if self._closed:
                resp.close()
                return
            self._resp = resp
        try:
            for line in lines(resp):
                if self._heartbeats or line.strip() != HEARTBEAT:
                    yield line
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as err:
            if self._closed:
                return
            raise from_exception(self._ctx, err) from None
        except ValueError:  # "I/O operation on closed file": closed from another thread
            if self._closed:
                return
            raise
        finally:
            resp.close()
