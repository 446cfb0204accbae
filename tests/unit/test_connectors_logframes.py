"""Nomad's framed log stream, decoded without HTTP."""

import base64
import json
from pathlib import Path

import pytest

from connectors.logframes import FrameDecoder, decode_frames

REF = Path(__file__).resolve().parents[3] / "shared" / "reference" / "nomad-api"


def frame(data: bytes | None = None, **kw) -> str:
    f = dict(kw)
    if data is not None:
        f["Data"] = base64.b64encode(data).decode()
    return json.dumps(f, separators=(",", ":"))


def test_back_to_back_frames_heartbeats_and_events():
    body = (
        "{}"
        + frame(b"line 1\n", Offset=0, File="alloc/logs/web.stdout.0")
        + "{}"
        + frame(b"line 2\n", Offset=7, File="alloc/logs/web.stdout.0")
        + frame(File="alloc/logs/web.stdout.0", FileEvent="file truncated")
        + frame(b"line 3\n", Offset=0, File="alloc/logs/web.stdout.0")
    )
    out = decode_frames(body)
    assert out.heartbeats == 2
    assert out.events == [("alloc/logs/web.stdout.0", "file truncated")]
    text = out.text()
    assert text.startswith("line 1\nline 2\n")
    assert "file truncated" in text and text.endswith("line 3\n")


def test_incremental_feed_split_anywhere_gives_same_text():
    body = (frame("héllo wörld\n".encode(), Offset=0) + "{}" + frame(b"bye\n", Offset=13)).encode()
    for cut in range(1, len(body)):
        dec = FrameDecoder()
        dec.feed(body[:cut])
        dec.feed(body[cut:])
        assert dec.close().text() == "héllo wörld\nbye\n"


def test_tail_cut_inside_a_utf8_character():
    data = "é-tail\n".encode()[1:]  # starts mid-character
    assert decode_frames(frame(data)).text() == "-tail\n"


def test_reference_sample_frames():
    frames = json.loads((REF / "GET_v1_client_fs_logs_allocid_frames.json").read_text())
    body = "".join(json.dumps(f) for f in frames)
    # The doc's Data is shortened ("...") so it is not valid base64: a clear error.
    with pytest.raises(ValueError, match="base64"):
        decode_frames(body)
    ok = decode_frames(json.dumps(frames[1]))
    assert ok.events == [("alloc/logs/redis.stdout.0", "file deleted")]


@pytest.mark.parametrize("body", ["not json", "[1,2]", '{"Data":"zz!"}', '{"Offset":1'])
def test_malformed_streams_raise_valueerror(body):
    with pytest.raises(ValueError):
        decode_frames(body)


def test_incomplete_tail_tolerated_when_stream_was_cut_on_purpose():
    dec = FrameDecoder()
    dec.feed(frame(b"ok\n") + '{"Offset":3,"Da')
    assert dec.close(complete=False).text() == "ok\n"
