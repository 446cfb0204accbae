"""The event stream's reader says when more frames have already arrived (connectors.nomad): the
follower applies them all before reading dirty items again and handing the lists over once, so a
follower behind the server (the replay after a big load) catches up at the rate it reads."""

from __future__ import annotations

from connectors.nomad import _lines


class Raw:
    def __init__(self, chunks: list[bytes]):
        self.chunks = list(chunks)

    def read1(self, n: int, decode_content: bool = True) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


class Resp:
    def __init__(self, chunks: list[bytes]):
        self.raw = Raw(chunks)


def test_lines_already_received_are_counted_and_blank_lines_skipped():
    left = [0]
    seen = []
    for line in _lines(Resp([b'{"Index": 1}\n\n{"Index": 2}\n{"Ind', b'ex": 3}\n', b"{}\n"]), left):
        seen.append((line, left[0]))
    assert seen == [(b'{"Index": 1}', 1), (b'{"Index": 2}', 0), (b'{"Index": 3}', 0), (b"{}", 0)]


def test_a_last_line_without_newline_is_still_handed_out():
    assert list(_lines(Resp([b'{"Index": 1}\n{"Index": 2}']))) == [b'{"Index": 1}', b'{"Index": 2}']
