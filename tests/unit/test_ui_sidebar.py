"""Sidebar search results: names from the cluster are link text, so their Markdown must stay literal."""

from ui import sidebar
from views.search import Match


def test_link_label_escapes_markdown_in_a_hostile_job_name():
    m = Match("job", "x", "[click](https://evil.example) **now** :red[boo]", "client", {"client": "x"})
    label = sidebar.link_label(m)
    assert "](" not in label.replace("\\](", "").replace("\\(", "")
    assert label == r"\[click\]\(https\:\/\/evil.example\) \*\*now\*\* \:red\[boo\]".replace(r"\/", "/")


def test_link_label_of_a_plain_name_is_unchanged():
    assert sidebar.link_label(Match("client", "northern-leaf", "northern-leaf", "client")) == "northern-leaf"
