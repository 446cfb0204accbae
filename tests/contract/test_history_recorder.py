"""The deployment history recorder against the sandbox over real HTTP, into a real SQLite file / PostgreSQL.

The hand count reads the sandbox's own /v1/deployments and /v1/jobs and counts with plain loops,
independently of views.deploy_metrics; the recorded history must give the same figures.
"""

from __future__ import annotations

import collections

import pandas as pd
import pytest
import requests

from connectors.settings import load
from history import read as history_read
from history.recorder import Recorder
from snapshot import Refresher
from views import deploy_metrics as m

# Nomad's base descriptions of a failed deployment (nomad/structs/deployment.go, v1.11.3) in the page's words
HAND_REASONS = {
    "Failed due to progress deadline": "progress deadline",
    "Failed due to unhealthy allocations": "unhealthy allocations",
    "Deployment marked as failed": "manually failed",
    "Failed because of an error in peer region": "peer region failed",
}


def settings_for(sb):
    return load({"NOMAD_ADDR": sb.nomad_addr, "DASHBOARD_HTTP_TIMEOUT": "10", "DASHBOARD_CLUSTER_NAME": "sandbox"})


def served(sb, path, **params):
    resp = requests.get(sb.nomad_addr + path, params={"namespace": "*", **params}, timeout=10)
    resp.raise_for_status()
    return resp.json()


@pytest.fixture
def recorded(fresh_sandbox, migrated_url):
    ref = Refresher(settings_for(fresh_sandbox), "namespace")
    ref.refresh_once()
    rec = Recorder(ref, url=migrated_url, lookups_per_pass=5)
    assert rec.record_now() > 0
    for _ in range(100):  # older job versions are looked up a few per pass
        if not rec.lookups_left:
            break
        rec.record_now()
    assert rec.lookups_left == 0
    yield fresh_sandbox, ref, rec, migrated_url


def test_every_served_deployment_is_recorded_once_with_the_latest_status(recorded):
    sb, ref, rec, url = recorded
    deployments = served(sb, "/v1/deployments")
    df = history_read.history(url=url)
    assert sorted(df["deployment_id"]) == sorted(d["ID"] for d in deployments)
    by_id = df.set_index("deployment_id")
    for d in deployments:
        row = by_id.loc[d["ID"]]
        assert (row["status"], row["status_description"], row["job_version"]) == (
            d["Status"],
            d["StatusDescription"],
            d["JobVersion"],
        )
        assert row["desired"] == sum(g["DesiredTotal"] for g in d["TaskGroups"].values())
        assert row["auto_revert"] == any(g.get("AutoRevert") for g in d["TaskGroups"].values())
    # a second pass with nothing new writes nothing; the time moves on and the changes land
    assert rec.record_now() == 0
    sb.clock.advance(1800)
    ref.refresh_once()
    rec.record_now()
    again = served(sb, "/v1/deployments")
    df = history_read.history(url=url).set_index("deployment_id")
    assert len(df) >= len(deployments)
    assert {d["ID"]: d["Status"] for d in again} == {i: df.loc[i, "status"] for i in (d["ID"] for d in again)}


def test_app_versions_come_from_the_job_meta_of_the_version_deployed(recorded):
    sb, _ref, _rec, url = recorded
    df = history_read.history(url=url)
    jobs = {(j["Namespace"], j["ID"]): j for j in served(sb, "/v1/jobs", meta="true")}
    newest = df.sort_values("job_version").groupby(["namespace", "job_id"]).tail(1)
    for row in newest.itertuples():
        assert row.app_version == jobs[(row.namespace, row.job_id)]["Meta"]["version"]
    # older versions were looked up in the job's versions
    some = df[~df.index.isin(newest.index)].head(5)
    for row in some.itertuples():
        versions = served(sb, f"/v1/job/{row.job_id}/versions", namespace=row.namespace)["Versions"]
        meta = {v["Version"]: (v.get("Meta") or {}).get("version", "") for v in versions}
        assert row.app_version == meta.get(row.job_version, "")


def test_the_figures_match_a_hand_count_of_the_served_deployments(recorded):
    sb, _ref, _rec, url = recorded
    deployments = served(sb, "/v1/deployments")
    counts = collections.Counter(d["Status"] for d in deployments)
    per_client = collections.defaultdict(collections.Counter)
    reasons = collections.Counter()
    for d in deployments:
        per_client[d["Namespace"]][d["Status"]] += 1
        if d["Status"] == "failed":
            base = d["StatusDescription"].split(" - ")[0]  # " - rolling back to job version N" and kin
            reasons[HAND_REASONS[base]] += 1
    df = history_read.history(url=url)
    everything = m.headline(df, pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC"))
    # ModifyTime-less deployments still count: the window is wide open
    assert everything.deployments == len(deployments)
    assert (everything.successful, everything.failed, everything.cancelled) == (
        counts["successful"],
        counts["failed"],
        counts["cancelled"],
    )
    assert everything.success_rate == pytest.approx(counts["successful"] / (counts["successful"] + counts["failed"]))
    table = m.per_client(df).set_index("client")
    for client, c in per_client.items():
        assert (table.loc[client, "successful"], table.loc[client, "failed"]) == (c["successful"], c["failed"])
    got = dict(zip(*m.failure_reasons(df[df["status"] == "failed"])[["reason", "deployments"]].T.values))
    assert got == dict(reasons)


def test_two_clusters_deployments_are_recorded_apart_even_with_equal_ids(fresh_sandbox, migrated_url):
    """Several clusters (issue 12): each cluster's recorder keys its rows with its cluster name, so two
    clusters whose deployments have equal IDs (here: the same Nomad seen under two names, as a
    rebuilt cluster from a backup would be) never overwrite or mix with each other."""
    from connectors.settings import load_all
    from store import db
    from store import deployments as store_deployments

    entries = [{"name": name, "nomad_address": fresh_sandbox.nomad_addr} for name in ("ca-east", "ca-west")]
    recs = []
    for s in load_all(entries, {"DASHBOARD_HTTP_TIMEOUT": "10"}):
        ref = Refresher(s, "namespace")
        ref.refresh_once()
        recs.append(Recorder(ref, url=migrated_url, lookups_per_pass=500))
    east, west = recs
    assert east.record_now() > 0
    deployments = served(fresh_sandbox, "/v1/deployments")
    ids = sorted(d["ID"] for d in deployments)
    engine = db.engine_for(migrated_url)
    assert sorted(store_deployments.known(engine, cluster="ca-west")) == []  # the other cluster's rows are not its
    assert west.record_now() == len(ids)  # equal IDs, but new in ca-west: every one written
    for name in ("ca-east", "ca-west"):
        df = history_read.history(url=migrated_url, cluster=name)
        assert sorted(df["deployment_id"]) == ids and set(df["cluster"]) == {name}
    assert len(history_read.history(url=migrated_url)) == 2 * len(ids)
