"""The event stream is read ahead of its consumer (connectors.event_stream): frames that Nomad sent
in separate chunks while the follower was busy (a re-read, a hand-over) are all "pending" when it
comes back, so it applies them all before acting once. Before, only the lines of the last chunk
counted, and a follower behind the server (the replay after a load of 100,000 allocations) acted
after every chunk of a few frames: about 40 frames per re-read, 16 s behind in the churn bench."""

from __future__ import annotations

import threading
import time

import pytest

from connectors import ConnectorError
from connectors._common import Context
from connectors.event_stream import EventStream, lines

CTX = Context(source="Nomad", addr="http://127.0.0.1:4646", doing="follow the event stream")


class Raw:
    """A response body: ``chunks`` as the server sent them, then (``hold``) a wait for more
    that only a shutdown ends, like a long-lived stream."""

    def __init__(self, chunks: list[bytes], hold: bool = False):
        self.chunks = list(chunks)
        self.hold = hold
        self.shut = threading.Event()

    def read1(self, n: int, decode_content: bool = True) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        if self.hold:
            self.shut.wait(10)
        return b""

    def shutdown(self) -> None:
        self.shut.set()


class Resp:
    def __init__(self, chunks: list[bytes], hold: bool = False):
        self.raw = Raw(chunks, hold)
        self.closed = False

    def close(self) -> None:
        self.closed = True


def stream(resp) -> EventStream:
    return EventStream(lambda: resp, CTX, heartbeats=True, addr=CTX.addr)


def wait_until(cond, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_lines_are_handed_out_whole_and_blank_lines_skipped():
    chunks = [b'{"Index": 1}\n\n{"Index": 2}\n{"Ind', b'ex": 3}\n', b"{}\n", b'{"Index": 4}']
    assert list(lines(Resp(chunks))) == [b'{"Index": 1}', b'{"Index": 2}', b'{"Index": 3}', b"{}", b'{"Index": 4}']


def test_frames_sent_in_separate_chunks_while_the_consumer_was_busy_are_all_pending():
    chunks = [b'{"Index": %d, "Events": []}\n' % i for i in range(1, 6)]
    s = stream(Resp(chunks, hold=True))
    assert next(s)["Index"] == 1
    # The consumer is "busy" here (a re-read): the reader goes on reading what Nomad sent.
    assert wait_until(lambda: s._queue.qsize() == 4)
    got = []
    while s.pending():
        got.append(next(s)["Index"])
    assert got == [2, 3, 4, 5]
    assert not s.pending()  # nothing more sent: the follower acts now instead of waiting
    s.close()


def test_close_from_another_thread_wakes_a_consumer_waiting_for_the_next_frame():
    resp = Resp([b"{}\n"], hold=True)
    s = stream(resp)
    assert next(s) == {}
    threading.Timer(0.2, s.close).start()
    began = time.monotonic()
    assert list(s) == []  # the iteration just ends
    assert time.monotonic() - began < 5
    assert resp.raw.shut.is_set() and resp.closed
    assert wait_until(lambda: not s._reader.is_alive())


def test_a_malformed_frame_is_a_clear_error_after_the_good_ones():
    s = stream(Resp([b'{"Index": 1}\n', b"{not json\n"]))
    assert next(s)["Index"] == 1
    with pytest.raises(ConnectorError) as err:
        next(s)
    assert "Nomad" in str(err.value)
    with pytest.raises(StopIteration):
        next(s)


def test_a_refused_request_is_raised_by_the_first_next():
    def refuse():
        raise ConnectorError("Nomad", "Nomad refused to follow the event stream (403).", status=403)

    s = EventStream(refuse, CTX, heartbeats=True, addr=CTX.addr)
    with pytest.raises(ConnectorError) as err:
        next(s)
    assert err.value.status == 403


def test_a_consumer_far_behind_holds_the_reader_back_instead_of_queueing_without_end(monkeypatch):
    import connectors.event_stream as es

    line = b'{"Index": %d}\n'  # 12 bytes without its newline, for Index 1 to 9
    monkeypatch.setattr(es, "QUEUED_BYTES", 3 * 12)
    s = stream(Resp([line % i for i in range(1, 10)], hold=True))
    assert next(s)["Index"] == 1
    assert wait_until(lambda: s._queue.qsize() == 3)
    time.sleep(0.1)
    assert s._queue.qsize() == 3 and s._queued == 3 * 12  # at most QUEUED_BYTES read ahead
    assert [next(s)["Index"] for _ in range(8)] == list(range(2, 10))  # and nothing lost
    s.close()


def test_a_line_bigger_than_the_bound_is_still_read_when_nothing_else_is_queued(monkeypatch):
    """One frame can hold a deployment's thousand allocations: bigger than the bound, not lost."""
    import connectors.event_stream as es

    monkeypatch.setattr(es, "QUEUED_BYTES", 10)
    big = b'{"Index": 1, "Events": [%s]}\n' % b",".join([b'{"Topic": "Allocation"}'] * 50)
    s = stream(Resp([big, b'{"Index": 2}\n'], hold=True))
    first = next(s)
    assert first["Index"] == 1 and len(first["Events"]) == 50
    assert next(s)["Index"] == 2
    s.close()
