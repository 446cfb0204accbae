"""/v1/event/stream over real HTTP, held against Nomad v1.11.3's source.

command/agent/event_endpoint.go (query parsing, newline after each frame), nomad/event_endpoint.go
(ACLs, heartbeats), nomad/stream/ (buffer, resume, filter), nomad/state/events.go (topics, keys,
filter keys, payloads). The stream is read line by line as a real follower would.
"""

from __future__ import annotations

import json

import pytest
import requests

from sandbox import Sandbox

HEARTBEAT = b"{}"


@pytest.fixture
def sb():
    # A short heartbeat keeps the tests quick; Nomad's is 30 s (the sandbox default).
    with Sandbox(clients=40, seed=7, frozen=True, event_heartbeat=0.2) as s:
        yield s


@pytest.fixture
def acl_sb():
    with Sandbox(clients=8, seed=7, frozen=True, acl=True, event_heartbeat=0.2) as s:
        yield s


class Stream:
    def __init__(self, sb, headers=None, **params):
        self.resp = requests.get(
            sb.nomad_addr + "/v1/event/stream", params=params, headers=headers or {}, stream=True, timeout=30
        )
        self._buf = b""

    def line(self) -> bytes:
        """The next line (b"" once the stream ended), as soon as it is complete. read1 returns what
        has arrived, as the follower reads (connectors.nomad._lines); the raw body's readline reads
        one byte at a time, minutes for a few hundred allocation frames."""
        while b"\n" not in self._buf:
            data = self.resp.raw.read1(64 * 1024, decode_content=True)
            if not data:
                rest, self._buf = self._buf, b""
                return rest
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def frame(self) -> dict:
        """The next frame that is not a heartbeat."""
        for _ in range(200):
            raw = self.line()
            assert raw != b"", "the stream ended"
            if raw != HEARTBEAT:
                return json.loads(raw)
        raise AssertionError("only heartbeats")

    def until_heartbeat(self) -> list[dict]:
        """Frames up to the next heartbeat: everything already buffered comes before it."""
        out = []
        for _ in range(500):
            raw = self.line()
            assert raw != b"", "the stream ended"
            if raw == HEARTBEAT:
                return out
            out.append(json.loads(raw))
        raise AssertionError("no heartbeat")

    def close(self):
        self.resp.close()


def running(sb, n=1, namespace=None):
    out = []
    headers = {"X-Nomad-Token": sb.tokens["management"]} if sb.tokens else {}
    for a in requests.get(sb.nomad_addr + "/v1/allocations?namespace=*", headers=headers, timeout=10).json():
        full = sb.world.allocs[a["ID"]]
        usable = a["ClientStatus"] == "running" and not full.job.client.scenario and full.node.status != "down"
        if usable and (namespace is None or a["Namespace"] == namespace):
            out.append(a)
    return out[:n]


def restart(sb, alloc_id):
    r = requests.post(f"{sb.nomad_addr}/v1/client/allocation/{alloc_id}/restart", timeout=10)
    assert r.status_code == 200, r.text


def test_restart_arrives_as_an_allocation_event(sb):
    """events.go: allocs changes are Topic Allocation, Key the alloc ID, FilterKeys [JobID,
    DeploymentID], the payload the allocation without its Job; a client update is Type
    AllocationUpdated. The stream opens with a heartbeat (ndjson.go NewJsonStream)."""
    (a,) = running(sb)
    s = Stream(sb, namespace="*", topic="Allocation")
    assert s.resp.status_code == 200 and s.resp.headers["Content-Type"] == "application/json"
    assert s.line() == HEARTBEAT
    restart(sb, a["ID"])
    frame = s.frame()
    (ev,) = frame["Events"]
    full = sb.world.allocs[a["ID"]]
    assert list(ev) == ["Topic", "Type", "Key", "Namespace", "FilterKeys", "Index", "Payload"]
    assert (ev["Topic"], ev["Type"], ev["Key"], ev["Namespace"]) == (
        "Allocation",
        "AllocationUpdated",
        a["ID"],
        a["Namespace"],
    )
    assert ev["FilterKeys"] == [a["JobID"], full.deployment.id if full.deployment else ""]
    assert ev["Index"] == frame["Index"] > 0
    payload = ev["Payload"]["Allocation"]
    assert payload["ID"] == a["ID"] and "Job" not in payload
    assert payload["TaskStates"][next(iter(a["TaskStates"]))]["Events"][-1]["Type"] == "Restart Signaled"
    # the simulated clock plays the restart out: more AllocationUpdated frames for the same allocation
    sb.clock.advance(10)
    later = s.frame()
    assert later["Index"] > frame["Index"] and later["Events"][0]["Key"] == a["ID"]
    s.close()


def test_heartbeats_keep_an_idle_stream_open(sb):
    s = Stream(sb, namespace="*", topic="Allocation")
    assert [s.line() for _ in range(3)] == [HEARTBEAT] * 3
    s.close()


def test_topic_keys_match_key_or_filter_keys(sb):
    """subscription.go filter: Topic:key matches the event Key or one of its FilterKeys; a bare
    topic means Topic:*."""
    a, b = running(sb, 2, namespace="northern-leaf")
    job_stream = Stream(sb, namespace="*", topic=f"Allocation:{b['JobID']}")
    key_stream = Stream(sb, namespace="*", topic=f"Allocation:{b['ID']}")
    for s in (job_stream, key_stream):
        assert s.line() == HEARTBEAT
    if a["JobID"] != b["JobID"]:
        restart(sb, a["ID"])  # another job: neither stream shows it
    restart(sb, b["ID"])
    for s in (job_stream, key_stream):
        assert [e["Key"] for e in s.frame()["Events"]] == [b["ID"]]
        s.close()


def test_index_resumes_inclusive_and_namespace_filters(sb):
    """EventBroker.Subscribe/StartAtClosest: index=N starts at the entry for N itself (or the
    next one); events carry their namespace and a subscription sees only its namespaces
    ("default" unless namespace= says otherwise, "*" for all of them)."""
    a, b = running(sb, 2)
    restart(sb, a["ID"])
    restart(sb, b["ID"])
    second = sb.world.allocs[b["ID"]].modify_index
    s = Stream(sb, namespace="*", topic="Allocation", index=second)
    assert s.line() == HEARTBEAT
    frames = s.until_heartbeat()
    assert frames[0]["Index"] == second and [e["Key"] for e in frames[0]["Events"]] == [b["ID"]]
    assert all(f["Index"] >= second for f in frames)
    s.close()
    default_ns = Stream(sb, topic="Allocation", index=1)  # nothing runs in "default"
    assert default_ns.line() == HEARTBEAT and default_ns.until_heartbeat() == []
    default_ns.close()
    only = Stream(sb, topic="Allocation", index=1, namespace=a["Namespace"])
    assert only.line() == HEARTBEAT
    assert {e["Namespace"] for f in only.until_heartbeat() for e in f["Events"]} == {a["Namespace"]}
    only.close()


def test_an_index_older_than_the_buffer_starts_at_the_oldest_kept():
    """event_buffer.go keeps the last N indexes (event_buffer_size, 100 by default); an older
    index is not an error, the subscription starts at the oldest one still kept."""
    with Sandbox(clients=8, seed=7, frozen=True, event_heartbeat=0.2, event_buffer=3) as small:
        allocs = running(small, 5)
        for a in allocs:
            restart(small, a["ID"])
        kept = [small.world.allocs[a["ID"]].modify_index for a in allocs[-3:]]
        s = Stream(small, namespace="*", index=1)
        assert s.resp.status_code == 200 and s.line() == HEARTBEAT
        assert [f["Index"] for f in s.until_heartbeat()] == kept
        s.close()


def test_stop_emits_desired_status_events(sb):
    """Alloc.Stop applies AllocUpdateDesiredTransitionRequestType: its events are Type
    AllocationUpdateDesiredStatus, for the allocation and the evaluation it creates."""
    (a,) = running(sb)
    s = Stream(sb, namespace="*", topic=["Allocation", "Evaluation"])
    assert s.line() == HEARTBEAT
    r = requests.post(f"{sb.nomad_addr}/v1/allocation/{a['ID']}/stop", timeout=10)
    frame = s.frame()
    kinds = {(e["Topic"], e["Type"], e["Key"]) for e in frame["Events"]}
    assert kinds == {
        ("Allocation", "AllocationUpdateDesiredStatus", a["ID"]),
        ("Evaluation", "AllocationUpdateDesiredStatus", r.json()["EvalID"]),
    }
    s.close()


def test_bad_queries_are_400s(sb):
    r = requests.get(sb.nomad_addr + "/v1/event/stream?index=soon", timeout=10)
    assert (r.status_code, r.text) == (400, 'Unable to parse index: strconv.Atoi: parsing "soon": invalid syntax')
    r = requests.get(sb.nomad_addr + "/v1/event/stream?topic=Allocation:a:b", timeout=10)
    assert (r.status_code, r.text) == (
        400,
        "Invalid topic query: error parsing topics: Invalid key value pair for topic, topic: Allocation:a:b",
    )


def test_acl_filtering(acl_sb):
    """nomad/event_endpoint.go validateNsOp: job-ish topics need read-job, Node node:read, "*"
    and unknown topics a management token; a refusal comes after the agent has sent 200 (the
    connection is hijacked first), so the client sees an empty stream that ends."""
    read = {"X-Nomad-Token": acl_sb.tokens["read"]}
    mgmt = {"X-Nomad-Token": acl_sb.tokens["management"]}
    denied = Stream(acl_sb, headers=read, namespace="*")  # topic "*"
    assert denied.resp.status_code == 200 and denied.line() == b""
    nobody = Stream(acl_sb, namespace="*", topic="Allocation")
    assert nobody.line() == b""
    allowed = Stream(acl_sb, headers=read, namespace="*", topic="Allocation")
    everything = Stream(acl_sb, headers=mgmt, namespace="*")
    assert allowed.line() == HEARTBEAT and everything.line() == HEARTBEAT
    (a,) = running(acl_sb)
    r = requests.post(
        f"{acl_sb.nomad_addr}/v1/client/allocation/{a['ID']}/restart",
        headers={"X-Nomad-Token": acl_sb.tokens["support"]},
        timeout=10,
    )
    assert r.status_code == 200
    for s in (allowed, everything):
        assert s.frame()["Events"][0]["Key"] == a["ID"]
        s.close()


def test_node_event_matches_the_reference_sample(sb, reference_dir):
    """The reference sample (events.mdx) is a NodeRegistration frame; a node registering again
    through the world's change hook gives the same envelope, and the payload is the full Node."""
    from test_sandbox_contract import check

    node = sb.world.nodes[0]
    s = Stream(sb, topic="Node")
    assert s.line() == HEARTBEAT
    with sb.world.lock:
        node.modify_index = sb.world.touch("nodes", changed=[(node, "NodeRegistration")])
    frame = s.frame()
    (ev,) = frame["Events"]
    assert (ev["Topic"], ev["Type"], ev["Key"], ev["Namespace"], ev["FilterKeys"]) == (
        "Node",
        "NodeRegistration",
        node.id,
        "",
        None,
    )
    check(reference_dir, "GET_v1_event_stream_message.json", frame)
    s.close()


def test_every_allocation_the_clock_places_arrives_as_an_event(sb):
    """nomad/state/events.go: a plan that places an allocation is an Allocation event (PlanResult),
    whatever placed it: a deployment, a reschedule, or a delayed reschedule whose wait ran out (the
    OOM-failed allocation is replaced about 20 minutes in, and its placement had no event)."""
    s = Stream(sb, namespace="*", topic="*")
    assert s.line() == HEARTBEAT
    before = set(sb.world.allocs)
    sb.clock.advance(25 * 60)
    placed = set(sb.world.allocs) - before
    assert placed, "nothing was placed in 25 simulated minutes"
    seen: set[str] = set()
    for _ in range(50):
        frames = s.until_heartbeat()
        seen |= {
            e["Key"] for f in frames for e in f["Events"] if (e["Topic"], e["Type"]) == ("Allocation", "PlanResult")
        }
        if placed <= seen:
            break
    assert placed - seen == set()
    s.close()


def test_nomad_services_leave_and_return_around_a_restart_and_a_replacement(sb):
    """client/allocrunner/taskrunner/service_hook.go deregisters a task's services when it is
    killed or exits and registers them at Poststart; nomad/state/events.go sends each as a
    Service event, ServiceDeregistration or ServiceRegistration, keyed by the registration ID
    (which names the allocation). A replacement allocation's registration comes with the old
    allocation's deregistration."""
    worker = next(
        a
        for a in running(sb, n=500)
        if sb.world.allocs[a["ID"]].job.role.provider == "nomad" and sb.world.allocs[a["ID"]].tasks[0].restarts == 0
    )
    s = Stream(sb, namespace="*", topic="Service")
    assert s.line() == HEARTBEAT
    restart(sb, worker["ID"])
    sb.clock.advance(10)
    seen = [(e["Type"], e["Key"]) for f in s.until_heartbeat() for e in f["Events"]]
    mine = [t for t, key in seen if worker["ID"] in key]
    assert mine == ["ServiceDeregistration", "ServiceRegistration"]

    s.close()


def test_a_replacement_deregisters_the_old_allocations_nomad_services():
    """A replacement allocation's ServiceRegistration comes with a ServiceDeregistration of the
    registration its predecessor still held (nomad/state/events.go; the IDs name the allocation)."""
    with Sandbox(clients=40, seed=7, frozen=True, churn=40, event_heartbeat=0.2) as sb:
        held = {s.alloc.id for s in sb.world.nomad_services()}
        s = Stream(sb, namespace="*", topic="Service")
        assert s.line() == HEARTBEAT
        sb.clock.advance(120)  # churn replaces allocations (reschedules, deployments)
        events = []
        for _ in range(100):
            got = s.until_heartbeat()
            if not got:
                break
            events += [e for f in got for e in f["Events"]]
        s.close()
        allocs = sb.world.allocs
        registered = {e["Payload"]["Service"]["AllocID"] for e in events if e["Type"] == "ServiceRegistration"}
        replaced = {allocs[a].previous for a in registered if a in allocs} & held
        gone = {e["Payload"]["Service"]["AllocID"] for e in events if e["Type"] == "ServiceDeregistration"}
        assert replaced, "churn replaced an allocation holding a nomad-native service"
        assert replaced <= gone
