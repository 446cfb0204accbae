"""The support pages through AppTest on the shared sandbox (40 clients, frozen), signed in as support.

What a support person would notice: the worst clients first (the same order views computes), filters
that narrow the table and land in the URL, deep links that open the right client and allocation,
logs with a working regular-expression filter, and clear messages for odd links.
"""

from __future__ import annotations

import os
import re

import pytest

from ui import tables

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = os.path.join(ROOT, "app.py")


def text(at) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "code"):
        parts += [str(getattr(el, "value", "")) for el in getattr(at, kind)]
    return "\n".join(parts)


def health_clients(at) -> list[str]:
    return [link.split("client=", 1)[1] for link in at.dataframe[0].value["client"]]


# ------------------------------------------------------------------ client health


def test_health_lists_every_client_worst_first_like_views(open_page, snap):
    at = open_page()
    assert at.title[0].value.endswith("Client health")
    expected = snap.frames.clients.sort_values("rank", kind="stable")["client"].tolist()
    assert health_clients(at) == expected
    statuses = [s.split(" ", 1)[1] for s in at.dataframe[0].value["status"]]
    ranks = [["down", "degraded", "deploying", "healthy"].index(s) for s in statuses]
    assert ranks == sorted(ranks) and ranks[0] < 3  # the sandbox has unhappy clients, and they come first
    first = snap.frames.clients.set_index("client").loc[expected[0]]
    # the worst findings that fit the cell, the rest counted (the client page has them all)
    assert at.dataframe[0].value.iloc[0]["reason"] == tables.short_reason(first["reason"])
    counts = {m.label.split(" ", 1)[-1]: m.value for m in at.metric}
    assert counts["Clients"] == str(len(expected))
    assert counts["Degraded"] == str(int((snap.frames.clients["status"] == "degraded").sum()))


def test_status_filter_narrows_the_table_and_goes_into_the_url(open_page, snap):
    at = open_page()
    at.multiselect(key="health_status").select("healthy").run()
    shown = health_clients(at)
    healthy = snap.frames.clients[snap.frames.clients["status"] == "healthy"]["client"].tolist()
    assert shown == healthy and 0 < len(shown) < len(snap.frames.clients)
    assert at.query_params["status"] in ("healthy", ["healthy"])


def test_filters_from_a_shared_link(open_page, snap):
    clients = snap.frames.clients
    dc = sorted({d for ds in clients["datacenters"] for d in ds})[0]
    at = open_page(status=["degraded", "deploying"], dc=dc)
    expect = clients[
        clients["status"].isin(["degraded", "deploying"]) & clients["datacenters"].map(lambda ds: dc in ds)
    ]["client"].tolist()
    assert health_clients(at) == expect
    assert at.multiselect(key="health_status").value == ["degraded", "deploying"]
    assert at.selectbox(key="health_dc").value == dc


def test_free_text_search_finds_one_client(open_page, snap):
    name = snap.frames.clients["client"].iloc[-1]
    at = open_page()
    at.text_input(key="health_q").input(name).run()
    assert health_clients(at) == [name]
    assert at.query_params["q"] in (name, [name])


def test_rows_link_to_the_client_page(open_page):
    at = open_page()
    links = at.dataframe[0].value["client"].tolist()
    assert all(re.fullmatch(r"client\?client=[a-z0-9-]+", link) for link in links)


# ------------------------------------------------------------------ client page


def test_deep_link_opens_that_client(open_page, snap):
    worst = snap.frames.clients.iloc[0]
    at = open_page("app_pages/client.py", client=worst["client"])
    assert at.title[0].value.endswith(worst["client"])
    assert tables.md_text(worst["reason"]) in text(at)  # shown literally (Markdown escaped)
    allocs = snap.frames.allocations
    own = set(allocs[allocs["client"] == worst["client"]]["alloc_id"])
    table = next(d.value for d in at.dataframe if "allocation" in d.value.columns)
    ids = {link.split("alloc=", 1)[1].split("&", 1)[0] for link in table["allocation"]}
    assert ids == own
    assert all(link.endswith("&cluster=default") for link in table["allocation"])  # each names its cluster
    # runbook / tickets / logs links from config.links_for
    assert {b.proto.label for b in at.get("link_button")} >= {"Runbook", "Tickets", "Logs"}


def test_a_periodic_parent_job_says_so_in_the_jobs_table(open_page, snap):
    """The demo world's periodic reports job: its parent has no version of its own (it is never
    placed; its children run), so the client's jobs table says "periodic parent", never "None"."""
    jobs = snap.frames.jobs
    parent = jobs[jobs["periodic"] & (jobs["job_version"] < 0)].iloc[0]
    at = open_page("app_pages/client.py", client=parent["client"])
    table = next(d.value for d in at.dataframe if "running_ratio" in d.value.columns)
    versions = dict(zip(table["job"], table["version"]))
    assert versions[parent["job_id"]] == "periodic parent"
    assert all(isinstance(v, str) and v for v in table["version"]), table["version"].tolist()
    assert any(v.isdigit() for v in table["version"])  # the others keep their number


def test_client_allocation_status_filter(open_page, snap):
    allocs = snap.frames.allocations
    client = allocs[allocs["client_status"] == "running"]["client"].iloc[0]
    at = open_page("app_pages/client.py", client=client)
    at.multiselect(key="client_alloc_status").select("running").run()
    table = next(d.value for d in at.dataframe if "allocation" in d.value.columns)
    assert set(table["status"]) == {"● running"}
    assert len(table) == int(((allocs["client"] == client) & (allocs["client_status"] == "running")).sum())


def test_unknown_client_says_so_with_a_way_back(open_page):
    at = open_page("app_pages/client.py", client="no-such-client")
    assert "No client named `no-such-client`" in at.error[0].value
    assert not at.dataframe


def test_client_page_without_a_name_offers_a_picker(open_page, snap):
    at = open_page("app_pages/client.py")
    assert at.selectbox(key="client_pick").options[:1] == [
        f"{'✕▲↻✓'[['down', 'degraded', 'deploying', 'healthy'].index(snap.frames.clients.iloc[0]['status'])]} "
        f"{snap.frames.clients.iloc[0]['client']}"
    ]


# ------------------------------------------------------------------ allocation page


def running_alloc(snap):
    a = snap.frames.allocations
    ev = snap.frames.task_events
    row = a[(a["client_status"] == "running") & a["alloc_id"].isin(ev["alloc_id"])].iloc[0]
    return row


def test_short_id_deep_link_shows_the_allocation_and_its_logs(open_page, snap):
    a = running_alloc(snap)
    at = open_page("app_pages/allocation.py", alloc=a["short_id"])
    assert at.title[0].value.endswith(f"Allocation {a['short_id']}")
    body = text(at)
    for part in (a["client"], a["job_id"], a["task_group"], a["node_name"]):
        assert part in body
    restart = at.button(key="allocation_restart")  # support may restart (through the audited dialog)
    assert not restart.disabled and "allocation_stop" not in [b.key for b in at.button]
    log = at.code[0].value
    assert len(log.splitlines()) > 3
    assert "Showing" in body and at.get("download_button")


def test_regex_filter_keeps_only_matching_lines(open_page, snap):
    a = running_alloc(snap)
    at = open_page("app_pages/allocation.py", alloc=a["alloc_id"])
    lines = at.code[0].value.splitlines()
    word = next(
        w
        for w in re.findall(r"[A-Za-z]{4,}", "\n".join(lines))
        if 0 < sum(w.lower() in ln.lower() for ln in lines) < len(lines)
    )
    at.text_input(key="allocation_log_filter").input(word).run()
    kept = at.code[0].value.splitlines()
    assert kept and all(word.lower() in ln.lower() for ln in kept)
    assert len(kept) == sum(word.lower() in ln.lower() for ln in lines)
    at.text_input(key="allocation_log_filter").input("(unclosed").run()
    assert "not a valid regular expression" in at.error[0].value
    assert len(at.code[0].value.splitlines()) == len(lines)  # an invalid filter hides nothing


def test_viewer_cannot_read_logs(open_page, snap):
    a = running_alloc(snap)
    at = open_page("app_pages/allocation.py", role="viewer", alloc=a["short_id"])
    assert "cannot read allocation logs" in text(at)
    assert not at.code


@pytest.mark.parametrize(
    "value,message",
    [
        ("<script>alert(1)</script>", "is not an allocation ID"),
        ("../../v1/acl/tokens", "is not an allocation ID"),
        ("x" * 3000, "is not an allocation ID"),
        ("deadbeef", "No allocation `deadbeef`"),
    ],
)
def test_odd_allocation_links_get_a_clear_message(open_page, value, message):
    at = open_page("app_pages/allocation.py", alloc=value)
    assert message in at.error[0].value
    assert not at.exception


def test_the_allocation_page_opened_from_the_menu_offers_allocations_to_pick(open_page, snap):
    """No ?alloc= (the menu entry): a way to pick one, troubled first, instead of a red error."""
    at = open_page("app_pages/allocation.py")
    assert not at.error and not at.exception
    assert "Pick an allocation below" in at.info[0].value
    table = at.dataframe[0].value
    assert 0 < len(table) <= 50
    failed = int((snap.frames.allocations["client_status"] == "failed").sum())
    assert [s.split(" ", 1)[1] for s in table["status"]][: min(failed, 50)] == ["failed"] * min(failed, 50)


def test_memory_max_reads_not_set_when_a_task_has_none(open_page, snap):
    at = open_page("app_pages/allocation.py", alloc=snap.frames.allocations["alloc_id"].iloc[0])
    resources = next(d.value for d in at.dataframe if "memory_max_mb" in d.value.columns)
    assert set(resources["memory_max_mb"]) == {"not set"}  # the sandbox sets no memory_max


# ------------------------------------------------------------------ nodes page


def test_nodes_page_and_one_node(open_page, snap):
    nodes = snap.frames.nodes
    at = open_page("app_pages/nodes.py")
    assert len(at.dataframe[0].value) == len(nodes)
    node = nodes.sort_values("allocs_total").iloc[-1]
    at = open_page("app_pages/nodes.py", node=node["name"])
    assert at.title[0].value.endswith(node["name"])
    table = at.dataframe[0].value
    assert len(table) == node["allocs_total"]
    assert all(link.startswith("allocation?alloc=") for link in table["allocation"])


def test_nodes_datacenter_filter_from_a_link(open_page, snap):
    dc = sorted(set(snap.frames.nodes["datacenter"]))[-1]
    at = open_page("app_pages/nodes.py", dc=dc)
    table = at.dataframe[0].value
    assert set(table["datacenter"]) == {dc}
    assert len(table) == int((snap.frames.nodes["datacenter"] == dc).sum())


def test_unknown_node_says_so(open_page):
    at = open_page("app_pages/nodes.py", node="[x](https://evil.example)")
    assert at.error[0].value == "No node named or with ID `[x](https://evil.example)`."
