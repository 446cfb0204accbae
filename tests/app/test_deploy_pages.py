"""The deployments and rollouts pages (AppTest), on what the recorder stored from the sandbox over real HTTP.

The hand count reads the sandbox's /v1/deployments and counts with plain loops (no views code).
"""

from __future__ import annotations

import collections
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import requests

DEPLOYMENTS = "app_pages/deployments.py"
ROLLOUTS = "app_pages/rollouts.py"


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    """A database of this module's own (the process's recorder follows DASHBOARD_STATE_DIR)."""
    import os

    saved = os.environ.get("DASHBOARD_STATE_DIR")
    path = tmp_path_factory.mktemp("deploy-pages-state")
    os.environ["DASHBOARD_STATE_DIR"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("DASHBOARD_STATE_DIR", None)
    else:
        os.environ["DASHBOARD_STATE_DIR"] = saved


@pytest.fixture(scope="module")
def recorded(cluster_env, snap, state_dir):
    """The process's recorder (as the launcher starts it), after it has stored everything the sandbox has."""
    from history.recorder import start_for_this_process

    (rec,) = start_for_this_process()  # one cluster configured: one recorder
    rec.record_now()
    for _ in range(200):
        if not rec.lookups_left:
            break
        rec.record_now()
    assert rec.lookups_left == 0
    return rec


def served(sb):
    resp = requests.get(sb.nomad_addr + "/v1/deployments", params={"namespace": "*"}, timeout=10)
    resp.raise_for_status()
    return resp.json()


def started(d) -> pd.Timestamp:
    """When a deployment counts: Nomad's CreateTime (int ns)."""
    return pd.Timestamp(d["CreateTime"], unit="ns", tz="UTC")


def metrics(at):
    return {m.label: m.value for m in at.metric}


def table(at, key):
    (df,) = [d.value for d in at.dataframe if d.proto.id and key in str(d.proto.id)] or [None]
    return df


def test_a_manager_sees_this_weeks_share_of_failed_deployments_matching_a_hand_count(
    open_page, recorded, cluster_env, page_text
):
    deps = served(cluster_env)
    now = datetime.now(UTC)
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    week = [d for d in deps if monday <= started(d) < now]
    ok = sum(d["Status"] == "successful" for d in week)
    failed = sum(d["Status"] == "failed" for d in week)
    at = open_page(DEPLOYMENTS, role="manager")
    shown = metrics(at)
    assert shown["Deployments"] == str(len(week))
    assert shown["Failed"] == str(failed)
    assert shown["Success rate"] == (f"{ok / (ok + failed) * 100:.1f}%" if ok + failed else "–")
    assert "This week" in page_text(at)


def test_the_period_filter_and_the_per_client_table_match_a_hand_count(open_page, recorded, cluster_env):
    deps = served(cluster_env)
    per_client = collections.defaultdict(collections.Counter)
    for d in deps:
        per_client[d["Namespace"]][d["Status"]] += 1
    at = open_page(DEPLOYMENTS, role="manager", period="90d")
    assert metrics(at)["Deployments"] == str(len(deps))
    df = at.dataframe[0].value.set_index("client")
    assert set(df.index) == set(per_client)
    for client, c in per_client.items():
        assert (df.loc[client, "deployments"], df.loc[client, "failed"]) == (sum(c.values()), c["failed"])
    # the lowest success rate comes first: the client to call about
    assert df["success_rate"].iloc[0] == df["success_rate"].min()


def test_filters_by_client_job_type_and_datacenter_come_from_the_url(open_page, recorded, cluster_env):
    deps = served(cluster_env)
    failing = collections.Counter(d["Namespace"] for d in deps if d["Status"] == "failed").most_common(1)[0][0]
    mine = [d for d in deps if d["Namespace"] == failing]
    web = [d for d in mine if d["JobID"] == f"{failing}-web"]
    at = open_page(DEPLOYMENTS, role="manager", period="90d", client=failing)
    assert metrics(at)["Deployments"] == str(len(mine))
    assert at.dataframe[0].value["client"].tolist() == [failing]
    last = max((d for d in mine if d["Status"] == "failed"), key=started)
    reason = at.dataframe[0].value["last_failure_reason"].iloc[0]
    assert reason.split(" (")[0] in {"progress deadline", "unhealthy allocations", "manually failed"}
    assert ("auto-reverted" in reason) == (" - rolling back to job version " in last["StatusDescription"])
    at = open_page(DEPLOYMENTS, role="manager", period="90d", client=failing, job="web", type="service")
    assert metrics(at)["Deployments"] == str(len(web))
    assert at.selectbox(key="deployments_job").value == "web"
    # a datacenter no job uses leaves nothing; an unknown value in the URL is ignored, not trusted
    at = open_page(DEPLOYMENTS, role="manager", period="90d", dc="mars-1")
    assert metrics(at)["Deployments"] == str(len(deps))
    # two CSV downloads: the table and the underlying deployments
    assert len(at.get("download_button")) == 2


def test_support_may_view_viewers_may_not(open_page, recorded, nav_pages, page_text):
    assert {"deployments", "rollouts"} <= set(nav_pages(open_page(role="support")))
    assert {"deployments", "rollouts"} <= set(nav_pages(open_page(role="manager")))
    assert not {"deployments", "rollouts"} & set(nav_pages(open_page(role="viewer")))


# ---------------------------------------------------------------- rollouts

T0 = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=1)
NS = 10**9


def rollout_rec(i, client, status, minutes, app, desc=""):
    create = int((T0 + pd.Timedelta(minutes=minutes)).value)
    return {
        "cluster": "default",
        "deployment_id": f"ro-{i:03d}",
        "client": client,
        "namespace": client,
        "job_id": f"{client}-checkout",
        "job_type": "service",
        "datacenters": "ca-tor-1",
        "job_version": i,
        "app_version": app,
        "status": status,
        "status_description": desc,
        "create_ns": create,
        "modify_ns": create + 300 * NS,
        "duration_s": 300.0 if status != "running" else None,
        "modify_index": 10_000 + i,
    }


@pytest.fixture(scope="module")
def rollout_history(recorded):
    from store import db
    from store import deployments as store_deployments

    recs = [rollout_rec(k, f"shop-{k}", "successful", -3000 + k, "1.0.0") for k in range(1, 9)]
    recs += [rollout_rec(10 + k, f"shop-{k}", "successful", k * 5, "1.1.0") for k in range(1, 5)]
    recs += [
        rollout_rec(
            20, "shop-5", "failed", 30, "1.1.0", "Failed due to progress deadline - rolling back to job version 9"
        )
    ]
    recs += [rollout_rec(21, "shop-6", "running", 35, "1.1.0")]
    store_deployments.upsert(db.engine_for(db.database_url()), recs)
    import streamlit as st

    st.cache_data.clear()  # as another dashboard instance's write shows once the brief cache expires
    return recs


def test_the_rollouts_list_says_how_far_the_current_rollout_is(open_page, rollout_history):
    at = open_page(ROLLOUTS, role="manager")
    df = at.dataframe[0].value
    current = df[(df["role"] == "checkout") & (df["app_version"] == "1.1.0")].iloc[0]
    assert (current["done"], current["failed"], current["running"], current["not_started"], current["fleet"]) == (
        4,
        1,
        1,
        2,
        8,
    )
    assert current["status"] == "in progress"


def test_a_rollout_board_shows_who_is_on_the_new_version_who_failed_and_why(open_page, rollout_history, page_text):
    rid = f"default/checkout/1.1.0@{(T0 + pd.Timedelta(minutes=5)).strftime('%Y%m%dT%H%M%SZ')}"
    at = open_page(ROLLOUTS, role="manager", rollout=rid)
    assert not at.exception
    board = at.dataframe[0].value.set_index("client")
    assert board.loc["shop-5", "state"].endswith("failed")
    assert board.loc["shop-5", "reason"] == "progress deadline (auto-reverted)"
    assert board.loc["shop-5", "now_on"] == "1.0.0"
    assert board.loc["shop-7", "state"].endswith("not started") and board.loc["shop-7", "now_on"] == "1.0.0"
    assert board.loc["shop-1", "state"].endswith("done") and board.loc["shop-1", "now_on"] == "1.1.0"
    assert {m.label: m.value for m in at.metric}["○ Not started"] == "2"
    at = open_page(ROLLOUTS, role="manager", rollout="default/checkout/9.9.9@20200101T000000Z")
    assert "not in the recorded history" in page_text(at)
