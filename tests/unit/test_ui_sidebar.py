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
    assert shown(label) == name


def test_link_label_of_a_plain_name_reads_unchanged():
    assert shown(sidebar.link_label(Match("client", "northern-leaf", "northern-leaf", "client"))) == "northern-leaf"
