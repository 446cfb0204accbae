"""Deterministic task logs and Nomad's framed log stream encoding."""

from __future__ import annotations

import base64
import json
import random
import zlib
from datetime import UTC, datetime

from .clock import NS
from .world import Alloc, TaskState

FRAME_MAX = 64 * 1024

_INFO = (
    "GET /api/v1/inventory/lots 200 {ms}ms",
    "POST /api/v1/sales/transactions 201 {ms}ms",
    "GET /healthz 200 {ms}ms",
    "synced {n} package tags with CTLS",
    "cache refresh complete ({n} entries)",
    "processed batch of {n} plant movements",
    "connection pool stats: active={n} idle=4",
)
_WARN = (
    "slow query on lots_by_room took {ms}ms",
    "retrying CTLS request (attempt 2/5): HTTP 429 Too Many Requests",
    "label printer queue depth {n} above threshold",
)
_ERROR = (
    "upstream timed out after 5000ms: POST https://ctls.example.gc.ca/api/v2/reports",
    "failed to reconcile lot {n}: weight mismatch",
)


def _stamp(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def task_log(a: Alloc, task: TaskState, kind: str) -> bytes:
    """The whole log file for one task stream; same bytes for the same alloc every time."""
    rng = random.Random(a.log_seed ^ zlib.crc32(f"{task.name}/{kind}".encode()))
    t = task.events[0][1] if task.events else a.create_ns
    lines: list[str] = []
    version = a.job.versions[a.version].app_version
    if kind == "stdout":
        lines.append(f"{_stamp(t)} INFO  starting {a.job.role.name} {version} for client={a.job.client.slug}")
        lines.append(f"{_stamp(t + NS)} INFO  listening on 0.0.0.0:8080")
    starts = [e[1] for e in task.events if e[0] == "Started"]
    failures = [e for e in task.events if e[0] == "Terminated" and (e[2] or {}).get("ExitCode")]
    if task.state != "pending":
        n = 120 if kind == "stdout" else 15
        span = max(NS, ((task.finished_ns or a.modify_ns or t) - t) or 3600 * NS)
        for i in range(n):
            ts = t + 2 * NS + span * i // n
            if kind == "stdout":
                level, tmpl = ("INFO ", rng.choice(_INFO)) if rng.random() < 0.93 else ("WARN ", rng.choice(_WARN))
            else:
                level, tmpl = ("WARN ", rng.choice(_WARN)) if rng.random() < 0.7 else ("ERROR", rng.choice(_ERROR))
            lines.append(f"{_stamp(ts)} {level} " + tmpl.format(ms=rng.randint(3, 900), n=rng.randint(1, 5000)))
    if kind == "stderr":
        # The error that killed the task is the last thing it wrote.
        for _, ts, extra in failures:
            msg = (extra or {}).get("Message") or "exit status 1"
            if msg == "OOM Killed":
                lines.append(f"{_stamp(ts - NS)} ERROR fatal error: runtime: out of memory")
            else:
                lines.append(f"{_stamp(ts - NS)} ERROR {msg}")
    elif len(starts) > 1:
        lines.append(f"{_stamp(starts[-1])} INFO  starting {a.job.role.name} {version} (restart #{len(starts) - 1})")
    lines.sort()
    if kind == "stderr" and task.failed and failures:
        # The fatal error closes the file even if the timestamps of earlier noise overlap it.
        last = failures[-1]
        msg = (last[2] or {}).get("Message") or "exit status 1"
        lines.append(f"{_stamp(last[1])} ERROR task exited: {msg}")
    return ("\n".join(lines) + "\n").encode() if lines else b""


def frames(data: bytes, file: str, start: int) -> list[bytes]:
    """Nomad StreamFrames: back-to-back JSON objects, Data base64, at most 64 KiB each."""
    out = []
    pos = start
    while pos < len(data):
        chunk = data[pos : pos + FRAME_MAX]
        # Offset is the file offset just after this chunk, as the client's framer reports it.
        pos += len(chunk)
        out.append(
            json.dumps(
                {"Offset": pos, "Data": base64.b64encode(chunk).decode(), "File": file}, separators=(",", ":")
            ).encode()
        )
    return out
