"""The versions and residency pages show hostile cluster text literally (no Markdown, no links).

Reuses the hostile sandbox of test_hostile_markdown.py (client names, versions, tags, node name
and ID full of Markdown). Here the residency default allows only a datacenter that does not exist,
so every placement (with its hostile node, job and client names) is listed as forbidden.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.app.test_hostile_markdown import EVIL_HEAD, assert_literal, hostile, open_app  # noqa: F401

SHIPPED_DEFAULT = 'default = { datacenters = ["ca-tor-1", "ca-mtl-1", "ca-van-1", "ca-cgy-1"] }'


@pytest.fixture
def nowhere_policy(hostile):  # noqa: F811
    import os

    path = Path(os.environ["DASHBOARD_CONFIG"])
    before = path.read_text(encoding="utf-8")
    assert SHIPPED_DEFAULT in before
    path.write_text(before.replace(SHIPPED_DEFAULT, 'default = { datacenters = ["nowhere-1"] }'), encoding="utf-8")
    yield
    path.write_text(before, encoding="utf-8")


@pytest.mark.slow
def test_versions_page_shows_hostile_client_names_literally(hostile):  # noqa: F811
    at = open_app("app_pages/versions.py")
    assert_literal(at, expect=None)
    grid = at.dataframe[0].value
    assert any(EVIL_HEAD in unquote(str(link)) for link in grid["client"])
    at = open_app("app_pages/versions.py", client=EVIL_HEAD, service=EVIL_HEAD)
    assert_literal(at, expect=None)


@pytest.mark.slow
def test_residency_page_shows_hostile_placements_literally(hostile, nowhere_policy):  # noqa: F811
    at = open_app("app_pages/residency.py")
    assert_literal(at, expect="nowhere-1")  # the policy caption, escaped
    placements = at.dataframe[0].value
    assert len(placements) and set(placements["verdict"]) == {"✖ forbidden"}
    assert any("evil-node" in str(n) for n in placements["node"])
    at = open_app("app_pages/residency.py", client=EVIL_HEAD)
    assert_literal(at, expect=None)
    assert len(at.dataframe[0].value)
