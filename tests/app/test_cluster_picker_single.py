"""With one cluster configured there is nothing to pick: no cluster picker (issue 12). A link naming
another cluster still says so in words instead of being ignored silently."""

from __future__ import annotations


def test_one_cluster_shows_no_picker(open_page):
    at = open_page()
    assert "cluster_picker" not in [s.key for s in at.selectbox]
    assert not [w for w in at.warning if "no cluster named" in str(w.value)]


def test_one_cluster_and_a_link_naming_another_says_so(open_page):
    at = open_page(cluster="ca-west")
    words = "\n".join(str(w.value) for w in at.warning)
    assert "There is no cluster named “ca-west”" in words and "Showing every cluster" in words
