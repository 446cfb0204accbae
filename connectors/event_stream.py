"""One /v1/event/stream subscription, read ahead of its consumer by its own thread.

A thread reads the stream as fast as Nomad sends it and parses each line into a frame, queued
for the consumer. The consumer (``snapshot.follower``) applies every frame already queued before
it acts once (re-reads, hand-over); ``pending()`` is how it knows. Reading line by line in the
consumer's own thread could only see what one HTTP chunk held: a consumer behind the server
(the replay after a load of 100,000 allocations, or the frames sent during one slow re-read)
then acted after every chunk of a few frames, and caught up at a few frames per re-read.

The queue is bounded (``QUEUED_FRAMES``): a consumer that falls further behind makes the reader
wait, and TCP holds the rest back at the server, as any slow reader would.
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

__all__ = ["QUEUED_FRAMES", "EventStream"]

QUEUED_FRAMES = 1_000  # frames read ahead of the consumer at most (5 hand-overs of BATCH)
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
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUED_FRAMES)
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
        if item is _END or self._closed:
            self._ended = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        return item

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
        try:
            self._queue.put_nowait(_END)  # wakes a consumer waiting for the next frame
        except queue.Full:  # a consumer with frames queued is not waiting
            pass

    # ------------------------------------------------------------------ the reader thread

    def _pump(self) -> None:
        try:
            for frame in self._frames():
                if not self._put(frame):
                    return
        except Exception as err:  # a ConnectorError for the consumer (anything else: a bug, raised there too)
            self._put(err)
            return
        self._put(_END)

    def _put(self, item: Any) -> bool:
        """Queue ``item`` for the consumer, waiting while the queue is full; False once closed."""
        while not self._closed:
            try:
                self._queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _frames(self) -> Generator[dict[str, Any], None, None]:
        resp = self._open()
        with self._lock:
            if self._closed:
                resp.close()
                return
            self._resp = resp
        try:
            for line in lines(resp):
                try:
                    frame = json.loads(line)
                except ValueError as err:
                    if self._closed:
                        return
                    raise bad_json(self._ctx, err) from None
                if not isinstance(frame, dict):
                    raise BadResponse("Nomad", f"Nomad at {self._addr} sent an event frame that is not an object.")
                if not frame and not self._heartbeats:
                    continue
                yield frame
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
