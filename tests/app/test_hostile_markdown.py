"""Nothing from the cluster, a server or the URL renders as Markdown or a link, on any page.

A sandbox whose job meta, task names, port labels, task events, deployment descriptions, node
name and ID, Consul tags/meta/check output and error bodies all carry hostile Markdown (a link, an
image, a ``:red[...]`` directive, backticks, HTML, a heading, a bare URL, ``www.``, an e-mail
address) is opened page by page with AppTest as an admin; every string a Streamlit element would
render as Markdown (bodies, labels, captions, alerts, tooltips) is checked with ``markup_in``.

Why a backslash is not enough for bare URLs: GitHub-flavoured Markdown's autolink literals
(GFM spec, "Autolinks (extension)") are found in the text *after* escapes are resolved, so
``http\\://x`` still links in Streamlit; ``ui.tables.md_text`` breaks them with a word joiner.
"""

from __future__ import annotations

import dataclasses
import os
import re
from urllib.parse import unquote

import pytest
from streamlit.testing.v1 import AppTest

import config
import snapshot
from connectors import settings as cluster_settings
from sandbox import Sandbox
from sandbox.world import CONSUL_TABLES, NOMAD_TABLES
from tests.app.conftest import APP, AUTH_SECRETS, make_user_claims

EVIL = (
    "x](http://evil.example/a) ![i](http://evil.example/i.png) :red[RED] `tick` <img src=x> "
    "www.evil.example http://evil.example/b mail@evil.example"
)
EVIL_HEAD = "# evil heading " + EVIL
EVIL_TASK = "evil](http://evil.example/t):red[T]`tick`www.evil.example"
EVIL_NODE_ID = "0000`tick`](http://evil.example/n)www.evil.example"
ENV = ("NOMAD_ADDR", "CONSUL_HTTP_ADDR", "DASHBOARD_CONFIG", "DASHBOARD_HTTP_TIMEOUT", "NOMAD_TOKEN")
OUR_PAGES = r"(?:client|allocation|nodes|health)\?"  # the only Markdown links the pages write themselves
# GFM autolink literal triggers (spec 6.9): www., http(s)://, and e-mail addresses.
AUTOLINK = re.compile(r"(?i)\bwww\.|https?://|[\w.+-]@[\w-]+\.\w")
# Proto fields that are not Markdown: widget values and options, ids, data, JSON and code bodies.
PLAIN_TYPES = {"code", "json", "arrow_data_frame", "text", "plotly_chart", "download_button"}
PLAIN_FIELDS = {
    "url",
    "page",
    "options",
    "default",
    "value",
    "raw_value",
    "raw_values",  # a multiselect's chosen options: plain text, like its options
    "placeholder",
    "id",
    "form_id",
    "data",
    "column_order",
}


def markup_in(md: str) -> list[str]:
    """What in one Markdown string would render as something other than literal text."""
    found = []
    if re.search(r"(?<!\\)`tick", md):
        found.append("code span")
    md = re.sub(r"(?<!\\)`[^`]*`", "", md)  # a code span's content is literal (md_code keeps backticks out)
    if re.search(r"(?<!\\)!\[", md):
        found.append("image")
    if re.search(rf"(?<!\\)\]\((?!{OUR_PAGES})", md):
        found.append("link")
    if re.search(r"(?<!\\):red\[(RED|T)\]", md):  # the payload's directive (the pages colour icons themselves)
        found.append(":red[] directive")
    if re.search(r"(?<!\\)<img", md):
        found.append("HTML")
    if re.search(r"(?m)^\s*(?<!\\)#+ ", md):
        found.append("heading")
    if AUTOLINK.search(re.sub(r"\\(.)", r"\1", md)):  # after escapes are resolved, as GFM does
        found.append("bare URL or e-mail")
    return found


def _strings(proto, out: list[str]) -> None:
    for field, value in proto.ListFields():
        if field.name in PLAIN_FIELDS:
            continue
        values = value if isinstance(value, (list, tuple)) or type(value).__name__.startswith("Repeated") else [value]
        for v in values:
            if isinstance(v, str):
                out.append(v)
            elif hasattr(v, "ListFields"):
                _strings(v, out)


def markdown_strings(at: AppTest) -> list[str]:
    """Every string of the last run that Streamlit renders as Markdown."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", "") not in PLAIN_TYPES and hasattr(proto, "ListFields"):
            _strings(proto, out)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def literal(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md).replace("\u2060", "")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A small sandbox full of hostile text, and the app's environment pointing at it."""
    sb = Sandbox(clients=3, seed=7, frozen=True).start()
    w = sb.world
    with w.lock:
        job = next(j for j in w.job_list if j.role.name == "web")
        job.role = dataclasses.replace(job.role, tasks=(EVIL_TASK,) + job.role.tasks[1:], port=EVIL)
        for v in job.versions:
            v.app_version = EVIL_HEAD  # job meta "version": the client name under meta:version identity
        for d in job.deployments:
            d.description = EVIL
        alloc = job.allocs[0]
        alloc.client_description = EVIL
        alloc.tasks[0].name = EVIL_TASK
        alloc.tasks[0].events.append(("Setup Failure", w.clock.now_ns(), {"Message": EVIL, "SetupError": EVIL}))
        alloc.node.name = "evil-node " + EVIL
        alloc.node.id = EVIL_NODE_ID
        for s in w.consul_by_alloc.get(alloc.id, []):
            s.tags = (EVIL,)
            s.meta = dict(s.meta, note=EVIL)
            s.check_output = EVIL
        w.touch(*NOMAD_TABLES, *CONSUL_TABLES)
    cfg = tmp_path_factory.mktemp("hostile") / "dashboard.toml"
    cfg.write_text(
        config.DEFAULT_PATH.read_text(encoding="utf-8")
        .replace('identify_by = "namespace"', 'identify_by = "meta:version"')
        .replace("blocking_wait_seconds = 30", "blocking_wait_seconds = 1"),
        encoding="utf-8",
    )
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(
        {
            "NOMAD_ADDR": sb.nomad_addr,
            "CONSUL_HTTP_ADDR": sb.consul_addr,
            "DASHBOARD_CONFIG": str(cfg),
            "DASHBOARD_HTTP_TIMEOUT": "2",
        }
    )
    os.environ.pop("NOMAD_TOKEN", None)
    ref = snapshot.get_refresher(cluster_settings.load(), "meta:version", wait=1.0)
    ref.wait_for(lambda s: s.has_data and all(x.has_data for x in s.sources.values()), timeout=30)
    yield sb, ref, alloc.id
    sb.faults.clear()
    ref.stop(timeout=0.5)
    sb.stop()
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def open_app(page: str | None = None, **params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = make_user_claims("admin")
    at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
    at.run()
    if page:
        at.switch_page(page)
        at.query_params.update(params)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def assert_literal(at: AppTest, *, expect: str | None) -> None:
    strings = markdown_strings(at)
    bad = {s[:160]: markup_in(s) for s in strings if markup_in(s)}
    assert not bad, bad
    if expect is not None:
        assert any(expect in literal(s) for s in strings), f"{expect!r} was not shown at all"


def test_markup_in_finds_each_kind_of_markup():
    """The checker itself: raw hostile text is caught, the escaped form passes."""
    from ui.tables import md_text

    assert set(markup_in(EVIL_HEAD)) == {
        "image",
        "link",
        ":red[] directive",
        "code span",
        "HTML",
        "heading",
        "bare URL or e-mail",
    }
    assert markup_in(md_text(EVIL_HEAD)) == []
    assert literal(md_text(EVIL_HEAD)) == EVIL_HEAD


@pytest.mark.slow
def test_health_page_shows_hostile_client_names_and_versions_literally(hostile):
    at = open_app()
    assert_literal(at, expect=None)  # the table is plain text: the names show there as they are
    assert any(EVIL_HEAD in str(link) for link in at.dataframe[0].value["client"].map(unquote))


@pytest.mark.slow
def test_client_page_shows_hostile_names_meta_and_job_filter_literally(hostile):
    at = open_app("app_pages/client.py", client=EVIL_HEAD, job=EVIL_TASK)
    assert any("Show every job" in b.label for b in at.button)
    assert_literal(at, expect="Show every job, not only " + EVIL_TASK[:20])
    assert_literal(at, expect="evil heading")


@pytest.mark.slow
def test_allocation_page_shows_hostile_tasks_ports_and_events_literally(hostile):
    _, _, alloc_id = hostile
    at = open_app("app_pages/allocation.py", alloc=alloc_id)
    assert_literal(at, expect=EVIL_TASK)
    assert_literal(at, expect="port " + EVIL[:20])


@pytest.mark.slow
def test_node_page_shows_a_hostile_node_name_and_id_literally(hostile):
    at = open_app("app_pages/nodes.py", node=EVIL_NODE_ID)
    assert_literal(at, expect="evil-node")
    assert_literal(at, expect="0000'tick'")  # the ID's backticks cannot open or close a code span


@pytest.mark.slow
def test_error_bodies_from_the_servers_show_literally(hostile):
    """A Nomad 500 whose body is Markdown: the freshness banner and 'Could not read ...' warnings."""
    sb, ref, alloc_id = hostile
    body = "Internal error " + EVIL
    sb.faults.inject("nomad", "/v1/deployments", status=500, body=body)  # blocking queries
    sb.faults.inject("nomad", "/v1/event/stream", status=500, body=body)  # the event stream, once cut:
    sb.events.cut()  # the deployments source fails either way
    sb.faults.inject("nomad", "/v1/allocation/:id", status=500, body=body)
    sb.faults.inject("nomad", "/v1/client/fs/logs/:id", status=500, body=body)
    try:
        ref.wait_for(lambda s: "deployments" in {x.name for x in s.failing()}, timeout=20)
        snapshot.get_queries(cluster_settings.load()).clear()  # no answer cached from before the fault
        at = open_app("app_pages/allocation.py", alloc=alloc_id)
        warnings = [w.value for w in at.warning]
        assert any("could not be refreshed" in w for w in warnings), warnings
        assert any("Could not read the allocation" in w for w in warnings), warnings
        assert_literal(at, expect="Internal error x](http")
    finally:
        sb.faults.clear()
