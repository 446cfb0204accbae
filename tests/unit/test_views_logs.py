"""Log helpers (views.logs) and an allocation's resources (views.resources): table tests, odd input never raises."""

from __future__ import annotations

import pytest

from views.logs import filter_lines, split_lines, tail
from views.resources import ports, resources

LOG = "starting\nGET /health 200\nERROR db timeout\nGET /health 200\nerror: retry\n"


@pytest.mark.parametrize(
    "pattern, kwargs, lines",
    [
        ("error", {}, ["ERROR db timeout", "error: retry"]),
        ("error", {"ignore_case": False}, ["error: retry"]),
        ("health", {"invert": True}, ["starting", "ERROR db timeout", "error: retry"]),
        (r"^GET .* 200$", {}, ["GET /health 200", "GET /health 200"]),
        ("", {}, ["starting", "GET /health 200", "ERROR db timeout", "GET /health 200", "error: retry"]),
        (None, {}, ["starting", "GET /health 200", "ERROR db timeout", "GET /health 200", "error: retry"]),
    ],
)
def test_filter_lines(pattern, kwargs, lines):
    res = filter_lines(LOG, pattern, **kwargs)
    assert res.ok and res.lines == lines and res.matched == len(lines) and res.total == 5


@pytest.mark.parametrize("pattern", ["(", "[a-", "*x", "(?P<", "a" * 501])
def test_invalid_pattern_is_an_error_value_not_an_exception(pattern):
    res = filter_lines(LOG, pattern)
    assert not res.ok and res.lines == split_lines(LOG) and res.total == 5  # every line stays on screen
    assert res.error.startswith("The filter is")


ACCESS_LOG = "GET /healthz 200 3ms\nERROR upstream timed out\nPOST /api 201 9ms\nwarn slow query\n"


@pytest.mark.parametrize(
    "pattern,lines,error",
    [
        ("", 4, ""),
        ("error", 1, ""),  # case-insensitive
        ("^(GET|POST) ", 2, ""),
        (r"\d+ms$", 2, ""),
        ("(unclosed", 4, "not a valid regular expression"),
        ("*", 4, "not a valid regular expression"),
        ("a" * 400, 4, "longer than"),
    ],
)
def test_filter_lines_text_and_counts(pattern, lines, error):
    out = filter_lines(ACCESS_LOG, pattern)
    assert out.matched == lines and out.total == 4
    assert len(out.text.splitlines()) == lines
    assert error in out.error and bool(error) == bool(out.error)


@pytest.mark.parametrize(
    "src, n, out",
    [
        (LOG, 2, ["GET /health 200", "error: retry"]),
        (LOG, 0, []),
        (LOG, -1, []),
        (LOG, 99, split_lines(LOG)),
        (b"a\r\nb\xff\n", 1, ["b\ufffd"]),
        (None, 3, []),
        (["x", "y"], 1, ["y"]),
    ],
)
def test_tail(src, n, out):
    assert tail(src, n) == out


def test_resources_from_allocated_resources():
    alloc = {
        "AllocatedResources": {
            "Tasks": {
                "web": {"Cpu": {"CpuShares": 500}, "Memory": {"MemoryMB": 256}},
                "sidecar": {"Cpu": {"CpuShares": 100}, "Memory": {"MemoryMB": 64, "MemoryMaxMB": 128}},
            },
            "Shared": {"DiskMB": 300, "Ports": [{"Label": "http", "Value": 24000, "To": 8080, "HostIP": "10.0.0.5"}]},
        }
    }
    df = resources(alloc)
    assert df.to_dict("records") == [
        {"task": "web", "cpu_mhz": 500, "memory_mb": 256, "memory_max_mb": 0},
        {"task": "sidecar", "cpu_mhz": 100, "memory_mb": 64, "memory_max_mb": 128},
    ]
    assert df.attrs["disk_mb"] == 300
    assert ports(alloc) == ["http: 10.0.0.5:24000 → 8080"]
    assert resources({}).empty and ports({}) == []


def test_resources_from_the_older_shape_and_odd_input():
    old = {"TaskResources": {"web": {"CPU": 250, "MemoryMB": 128}}, "Resources": {"DiskMB": 150}}
    df = resources(old)
    assert df.to_dict("records") == [{"task": "web", "cpu_mhz": 250, "memory_mb": 128, "memory_max_mb": 0}]
    assert df.attrs["disk_mb"] == 150
    assert resources(None).empty and ports(None) == []


def test_catastrophic_pattern_stops_at_the_time_limit_and_keeps_every_line():
    """(a+)+$ against 64 KiB of 'a' backtracks exponentially: no machine finishes it within 0.3 s,
    so the regex engine's own time limit ends it, whatever the machine's speed."""
    from views.logs import TOO_SLOW

    log = "a" * (64 * 1024) + "!\nERROR db timeout\n"
    res = filter_lines(log, "(a+)+$", timeout=0.3)
    assert res.error == TOO_SLOW == "The filter took too long; simplify it."
    assert res.lines == split_lines(log) and res.matched == res.total == 2


class SteppingClock:
    """Each reading is `step` seconds after the previous: the time budget runs out after a known
    number of lines, however fast this machine's regex engine is."""

    def __init__(self, step):
        self.t, self.step, self.reads = 0.0, step, 0

    def __call__(self):
        self.reads += 1
        self.t += self.step
        return self.t


def test_time_limit_covers_all_lines_together():
    log = "\n".join(f"line {i} ok" for i in range(400))  # every line is fast on its own
    clock = SteppingClock(0.01)
    res = filter_lines(log, "ok", timeout=0.3, clock=clock)
    assert not res.ok and res.error == "The filter took too long; simplify it."
    assert res.lines == split_lines(log)  # nothing hidden by a filter that did not finish
    assert clock.reads < 400  # it gave up part-way through the lines, not after each line's own budget
    fast = filter_lines(log, "ok", timeout=10.0, clock=SteppingClock(0.01))
    assert fast.ok and fast.matched == 400
