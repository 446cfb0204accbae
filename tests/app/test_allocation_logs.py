"""The allocation page's log section: newest lines in view, live follow, case-insensitive filter said
out loud, all from the one shared follower of the stream."""

from __future__ import annotations

import re

from connectors import NomadConnector
from connectors import settings as cluster_settings


def running_alloc(snap):
    a = snap.frames.allocations
    ev = snap.frames.task_events
    return a[(a["client_status"] == "running") & a["alloc_id"].isin(ev["alloc_id"])].iloc[0]


def nomad_lines(a, task, kind="stderr"):
    nomad = NomadConnector(cluster_settings.load().nomad)
    return nomad.logs(a["alloc_id"], task, kind, namespace=a["namespace"]).splitlines()


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def log_caption(at) -> str:
    return next(c.value for c in at.caption if "of the last 64 KiB" in c.value)


def test_newest_lines_are_in_view_first_and_the_order_can_be_flipped(open_page, snap):
    a = running_alloc(snap)
    at = open_page("app_pages/allocation.py", alloc=a["short_id"])
    task = at.selectbox(key="allocation_log_task").value
    shown = at.code[0].value.splitlines()
    lines = nomad_lines(a, task)
    assert len(lines) > 3 and shown[0] == lines[-1]  # the newest line is at the top, in view
    assert "newest first" in captions(at)
    at.toggle(key="allocation_log_oldest_first").set_value(True).run()
    assert at.code[0].value.splitlines() == lines[: len(at.code[0].value.splitlines())]
    assert "oldest first" in captions(at)


def test_the_filter_says_it_ignores_case_and_does(open_page, snap):
    a = running_alloc(snap)
    at = open_page("app_pages/allocation.py", alloc=a["short_id"])
    box = at.text_input(key="allocation_log_filter")
    assert "case-insensitive" in box.label
    lines = at.code[0].value.splitlines()
    word = next(
        w
        for w in re.findall(r"[A-Za-z]{4,}", "\n".join(lines))
        if 0 < sum(w.lower() in ln.lower() for ln in lines) < len(lines)
    )
    box.input(word.upper()).run()
    kept = at.code[0].value.splitlines()
    assert kept and len(kept) == sum(word.lower() in ln.lower() for ln in lines)
    assert "Matching ignores case" in captions(at)


def test_follow_live_turns_on_and_says_how_often(open_page, snap):
    a = running_alloc(snap)
    at = open_page("app_pages/allocation.py", alloc=a["short_id"])
    assert "following" not in captions(at)
    at.toggle(key="allocation_log_follow").set_value(True).run()
    assert at.toggle(key="allocation_log_follow").value is True
    assert "following, new lines every 3 s" in captions(at)
    assert at.code[0].value.splitlines()


def test_a_still_log_says_the_time_it_was_read_not_an_age_that_would_stand_still(open_page, snap):
    """Without Follow live the log section is drawn once per page run (the page redraws only when
    the allocation changes, ui.live): "read 3 s ago" would still say so minutes later, so it says
    the time of day it was read, and how to get newer lines."""
    a = running_alloc(snap)
    at = open_page("app_pages/allocation.py", alloc=a["short_id"])
    words = log_caption(at)
    assert re.search(r"read at \d\d:\d\d:\d\d; turn on Follow live for newer lines\.", words), words
    assert " ago" not in words
    at.toggle(key="allocation_log_follow").set_value(True).run()
    assert re.search(r"read \d+ s ago; following", log_caption(at)), log_caption(at)
