"""Actions go to the cluster that holds the target (issue 12): two real sandbox clusters over HTTP,
one audit store.

What a person notices: a restart of an allocation in ca-west happens in ca-west and nowhere else,
the audit trail says ca-west; a rolling restart of a client that runs in both clusters restarts
only the chosen cluster's allocations; an action naming a cluster the dashboard does not know is
refused in words and recorded as refused. Nomad's restart answer the sandbox reproduces:
command/agent/alloc_endpoint.go (hashicorp/nomad).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from action_helpers import make_person, sqlite_url  # noqa: F401  (fixtures)

from actions import ALLOC_RESTART, GROUP_ROLLING_RESTART, Environment, Fleet, Target, get_fleet, perform
from config import ActionSettings
from connectors import NomadConnector
from connectors.errors import NotFound
from connectors.settings import load_all
from sandbox import MultiSandbox
from store.audit import AuditStore


@pytest.fixture(scope="module")
def group():
    with MultiSandbox(clusters=2, clients=16, frozen=True) as g:
        yield g


def entries(group) -> list[dict]:
    return [
        {"name": sb.name, "region": sb.world.profile.region, "nomad_address": sb.nomad_addr} for sb in group.clusters
    ]


@pytest.fixture
def fleet(group, sqlite_url):
    audit = AuditStore(sqlite_url)
    envs = {}
    for settings in load_all(entries(group), {"DASHBOARD_HTTP_TIMEOUT": "10"}):
        envs[settings.name] = Environment(
            audit=audit,
            nomad=NomadConnector(settings.nomad),
            cluster=settings.name,
            settings=ActionSettings(rate_limit=100),
            poll_seconds=0.05,
        )
    return Fleet(envs)


def nomad(group, name: str) -> NomadConnector:
    (settings,) = [s for s in load_all(entries(group), {}) if s.name == name]
    return NomadConnector(settings.nomad)


def signaled(conn: NomadConnector, alloc_id: str) -> dict[str, int]:
    """{task: restart requests that reached it} (its Restart Signaled task events)."""
    full = conn.get_allocation(alloc_id)
    return {
        name: sum(e["Type"] == "Restart Signaled" for e in state["Events"] or ())
        for name, state in full["TaskStates"].items()
    }


def once_more(after: dict[str, int], before: dict[str, int]) -> bool:
    return all(after[t] == before[t] + 1 for t in before)


def running_groups(conn: NomadConnector) -> dict[tuple, list[dict]]:
    groups = defaultdict(list)
    for a in conn.list_allocations().data:
        if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run":
            groups[(a["Namespace"], a["JobID"], a["TaskGroup"])].append(a)
    return groups


def restart_posts(sb) -> int:
    return sum(n for k, n in sb.stats("nomad").items() if k.startswith("POST") and "restart" in k)


def calm(members: list[dict]) -> bool:
    return all(not t.get("Restarts") for m in members for t in (m.get("TaskStates") or {}).values())


def test_restart_of_an_allocation_in_cluster_two_reaches_cluster_two_only(group, fleet):
    east, west = nomad(group, "ca-east"), nomad(group, "ca-west")
    pairs = [m for key, m in sorted(running_groups(west).items()) if len(m) == 2 and calm(m)]
    alloc = pairs[0][0]
    before_west, before_east = signaled(west, alloc["ID"]), restart_posts(group["ca-east"])
    target = Target(
        cluster="ca-west",
        namespace=alloc["Namespace"],
        job=alloc["JobID"],
        task_group=alloc["TaskGroup"],
        allocation=alloc["ID"],
        client=alloc["Namespace"],
        observed_at=datetime.now(UTC),
    )
    outcome = perform(make_person("support"), ALLOC_RESTART, target, "customer reports errors", env=fleet)
    assert outcome.status == "succeeded", outcome.message
    assert once_more(signaled(west, alloc["ID"]), before_west)
    assert restart_posts(group["ca-east"]) == before_east  # cluster 1 was never asked to restart anything
    with pytest.raises(NotFound):
        east.get_allocation(alloc["ID"])  # and does not hold it
    rows = fleet.audit.events(request_id=outcome.request_id)
    assert [r["event"] for r in rows] == ["requested", "succeeded"]
    assert {r["cluster"] for r in rows} == {"ca-west"}


def test_rolling_restart_of_a_shared_clients_job_in_cluster_two_touches_only_cluster_two(group, fleet):
    east, west = nomad(group, "ca-east"), nomad(group, "ca-west")
    shared = set(group.shared_clients())
    in_east, in_west = running_groups(east), running_groups(west)
    # A group of a client that runs in both clusters, with the same job and group in both.
    key = next(
        k for k in sorted(in_west) if k[0] in shared and k in in_east and len(in_west[k]) >= 2 and calm(in_west[k])
    )
    ns, job, tg = key
    west_ids = [a["ID"] for a in in_west[key]]
    east_ids = [a["ID"] for a in in_east[key]]
    east_before = {a: signaled(east, a) for a in east_ids}
    west_before = {a: signaled(west, a) for a in west_ids}
    target = Target(cluster="ca-west", namespace=ns, job=job, task_group=tg, client=ns, observed_at=datetime.now(UTC))
    outcome = perform(make_person("support"), GROUP_ROLLING_RESTART, target, "config reload", env=fleet)
    assert outcome.status == "started", outcome.message
    runner = fleet.get("ca-west").get_runner()
    for _ in range(200):  # simulated time moves on until the worker has seen every allocation healthy again
        if runner.wait(outcome.request_id, 0.1):
            break
        group["ca-west"].clock.advance(2)
    assert runner.wait(outcome.request_id, 0)
    assert all(once_more(signaled(west, a), west_before[a]) for a in west_ids)
    assert {a: signaled(east, a) for a in east_ids} == east_before  # the same job in ca-east: untouched
    rows = fleet.audit.events(request_id=outcome.request_id)
    assert rows[-1]["event"] == "succeeded", rows[-1]
    assert {r["cluster"] for r in rows} == {"ca-west"}


def test_a_cluster_that_is_not_configured_is_refused_in_words_and_recorded(group, fleet):
    west = nomad(group, "ca-west")
    alloc = next(a for m in running_groups(west).values() if len(m) == 2 for a in m)
    posts = {sb.name: restart_posts(sb) for sb in group}
    for cluster, words in (("ca-pacific", "Cluster 'ca-pacific' is not configured"), ("", "did not say which")):
        target = Target(
            cluster=cluster,
            namespace=alloc["Namespace"],
            job=alloc["JobID"],
            task_group=alloc["TaskGroup"],
            allocation=alloc["ID"],
            observed_at=datetime.now(UTC),
        )
        outcome = perform(make_person("support"), ALLOC_RESTART, target, "customer reports errors", env=fleet)
        assert outcome.status == "denied" and outcome.guard == "cluster"
        assert words in outcome.message and "ca-east, ca-west" in outcome.message
        assert "Nothing was done" in outcome.message
        rows = fleet.audit.events(request_id=outcome.request_id)
        assert [r["event"] for r in rows] == ["requested", "denied"]
        assert rows[0]["cluster"] == cluster
    assert {sb.name: restart_posts(sb) for sb in group} == posts


def test_an_allocation_sent_to_the_wrong_cluster_is_not_found_there_and_nothing_happens(group, fleet):
    """The page's cluster is what is used: ca-east does not hold a ca-west allocation, so it is refused."""
    west = nomad(group, "ca-west")
    alloc = next(a for m in running_groups(west).values() if len(m) == 2 for a in m)
    before = signaled(west, alloc["ID"])
    target = Target(
        cluster="ca-east",
        namespace=alloc["Namespace"],
        job=alloc["JobID"],
        task_group=alloc["TaskGroup"],
        allocation=alloc["ID"],
        observed_at=datetime.now(UTC),
    )
    outcome = perform(make_person("support"), ALLOC_RESTART, target, "customer reports errors", env=fleet)
    assert outcome.status == "denied" and outcome.guard == "live_target", outcome.message
    assert signaled(west, alloc["ID"]) == before


def test_get_fleet_builds_one_environment_per_configured_cluster(group, sqlite_url):
    listed = load_all(entries(group), {})
    fleet = get_fleet(ActionSettings(), "namespace", clusters=listed, url=sqlite_url)
    assert fleet.names == ["ca-east", "ca-west"]
    for s in listed:
        env = fleet.get(s.name)
        assert env.cluster == s.name and env.nomad.settings.addr == s.nomad.addr
    assert fleet.get("ca-east").audit is fleet.get("ca-west").audit  # one audit trail for every cluster


def test_the_policy_is_checked_before_the_cluster(group, fleet):
    """A person who may not restart is told so, whatever cluster the page named."""
    target = Target(cluster="ca-pacific", namespace="acme", job="acme-web", task_group="web", allocation="a" * 36)
    outcome = perform(make_person("viewer"), ALLOC_RESTART, target, "why not", env=fleet)
    assert outcome.status == "denied" and outcome.guard == "policy" and "may not" in outcome.message
