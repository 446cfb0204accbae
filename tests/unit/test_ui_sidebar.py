"""Sidebar search results: names from the cluster are link text, so their Markdown must stay literal."""

import re

from ui import sidebar
from views.search import Match


def shown(label: str) -> str:
    """What Markdown displays for ``label``: escapes resolved, the invisible word joiner dropped."""
    return re.sub(r"\\(.)", r"\1", label).replace("\u2060", "")


def test_link_label_escapes_markdown_in_a_hostile_job_name():
    name = "[click](https://evil.example) **now** :red[boo]"
    label = sidebar.link_label(Match("job", "x", name, "client", {"client": "x"}))
    assert not re.search(r"(?<!\\)[\[\]()*:]", label)  # no bracket, star or colon is left to Markdown
    assert "https://" not in re.sub(r"\\(.)", r"\1", label)  # the URL cannot autolink
    assert shown(label) == sidebar._fit(name)  # long names lose their middle, as typed otherwise


def test_link_label_of_a_plain_name_reads_unchanged():
    assert shown(sidebar.link_label(Match("client", "northern-leaf", "northern-leaf", "client"))) == "northern-leaf"


def test_two_periodic_runs_of_one_job_get_different_labels():
    a = Match("job", "northern-leaf-reports/periodic-1764547200", "northern-leaf-reports/periodic-1764547200", "client")
    b = Match("job", "northern-leaf-reports/periodic-1764633600", "northern-leaf-reports/periodic-1764633600", "client")
    la, lb = (shown(x) for x in sidebar.link_labels([a, b]))
    assert la != lb and la.endswith("1764547200") and lb.endswith("1764633600")
    assert len(la) <= sidebar.MAX_LABEL + 14


def test_identical_names_of_different_things_are_told_apart():
    a = Match("node", "aaaaaaaa-0000-0000-0000-000000000001", "web-1", "nodes")
    b = Match("node", "bbbbbbbb-0000-0000-0000-000000000002", "web-1", "nodes")
    la, lb = (shown(x) for x in sidebar.link_labels([a, b]))
    assert la != lb and "web-1" in la and "web-1" in lb
