"""Nomad's event stream (/v1/event/stream): a bounded journal of what the World changed.

Follows Nomad v1.11.3: ``nomad/state/events.go`` (topics, keys, filter keys, payloads),
``nomad/stream/event_buffer.go`` (a buffer of the last N raft indexes, 100 by default; a
subscriber starts at the closest retained index, silently later when it asked for one that is
gone), ``nomad/stream/subscription.go`` (topic/key/namespace filter), ``nomad/stream/ndjson.go``
(a ``{}`` heartbeat at once and then every 30 s) and ``nomad/event_endpoint.go`` (ACLs).

The World calls :meth:`EventJournal.publish` from ``touch`` with the objects one change touched;
payloads are rendered when a subscriber first reads the entry (then shared by all), so a stream
costs nothing while nobody listens, whatever the size of the world. (Service payloads are small
and rendered at once: a registration object moves on to the replacement allocation.)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator

from .http import dumps
from .nomad_shapes import alloc_full, deployment_dict, eval_dict, job_full, node_full, service_registration
from .world import Alloc, ConsulService, Deployment, Evaluation, Job, Node, World

HEARTBEAT_SECONDS = 30.0  # stream.NewJsonStream(ctx, 30*time.Second) in nomad/event_endpoint.go
# Nomad keeps event_buffer_size = 100 raft indexes (command/agent/config.go), and one index
# carries a batch of client updates; the sandbox gives every change its own index, so it keeps
# more of them to cover about the same stretch of time (a subscriber that falls further behind
# is dropped, as Nomad drops it).
NOMAD_BUFFER_SIZE = 100
BUFFER_SIZE = 4096

# nomad/structs/event.go: the Type Nomad gives each topic's usual change.
DEFAULT_TYPES = {
    "Allocation": "AllocationUpdated",
    "Job": "JobRegistered",
    "Deployment": "DeploymentStatusUpdate",
    "Evaluation": "EvaluationUpdated",
    "Node": "NodeStreamEvent",
    "Service": "ServiceRegistration",
}
TOPICS = frozenset(DEFAULT_TYPES)


class _Event:
    __slots__ = ("filter_keys", "key", "namespace", "obj", "payload", "topic", "type")

    def __init__(self, topic, etype, key, namespace, filter_keys, obj):
        self.topic, self.type, self.key = topic, etype, key
        self.namespace, self.filter_keys, self.obj = namespace, filter_keys, obj
        self.payload: dict | None = None


def describe(obj) -> tuple[str, str, str, list[str] | None] | None:
    """(topic, key, namespace, filter keys) of a changed object, as nomad/state/events.go makes them."""
    if isinstance(obj, Alloc):
        dep = obj.deployment.id if obj.deployment else ""
        return "Allocation", obj.id, obj.job.namespace, [obj.job.id, dep]
    if isinstance(obj, Job):
        return "Job", obj.id, obj.namespace, None
    if isinstance(obj, Deployment):
        return "Deployment", obj.id, obj.job.namespace, [obj.job.id]
    if isinstance(obj, Evaluation):
        return "Evaluation", obj.id, obj.job.namespace, [obj.job.id, obj.deployment_id]
    if isinstance(obj, Node):
        return "Node", obj.id, "", None
    if isinstance(obj, ConsulService) and obj.alloc.job.role.provider == "nomad":
        reg = service_registration(obj)
        return "Service", reg["ID"], reg["Namespace"], [reg["JobID"], reg["ServiceName"]]
    return None  # Consul-only changes are not Nomad events


def parse_topics(raw: list[str]) -> dict[str, list[str]]:
    """command/agent/event_endpoint.go parseEventTopics; ValueError with Nomad's words."""
    if not raw:
        return {"*": ["*"]}
    topics: dict[str, list[str]] = {}
    for t in raw:
        parts = t.split(":")
        if len(parts) == 1:
            k, v = t, "*"
        elif len(parts) == 2:
            k, v = parts
        else:
            raise ValueError(f"error parsing topics: Invalid key value pair for topic, topic: {t}")
        topics.setdefault(k, []).append(v)
    return topics


def matches(ev: _Event, topics: dict[str, list[str]], namespaces: list[str]) -> int:
    """How many times nomad/stream/subscription.go filter() keeps the event (its inner loop may
    keep one event once per matching key)."""
    if ev.namespace and ev.namespace not in namespaces:
        return 0
    every = topics.get("*", [])
    if every == ["*"]:
        return 1
    keys = every + topics.get(ev.topic, [])
    if keys == ["*"]:
        return 1
    return sum(1 for k in keys if ev.key == k or (ev.filter_keys and k in ev.filter_keys))


class _Entry:
    __slots__ = ("events", "index")

    def __init__(self, index: int, events: list[_Event]):
        self.index, self.events = index, events


class EventJournal:
    def __init__(self, world: World, size: int = BUFFER_SIZE, heartbeat: float = HEARTBEAT_SECONDS):
        self.world, self.size, self.heartbeat = world, size, heartbeat
        self.entries: deque[_Entry] = deque()
        self.first_seq = 0  # sequence number of entries[0]
        self.closed = False
        self.cuts = 0  # cut() ends every open stream (a proxy or load balancer dropping them)

    @property
    def next_seq(self) -> int:
        return self.first_seq + len(self.entries)

    def publish(self, index: int, changed) -> None:
        """Called by World.touch (world lock held): one raft index, the objects it changed."""
        events = []
        for item in changed:
            obj, etype = item if isinstance(item, tuple) else (item, None)
            d = describe(obj)
            if d is not None:
                topic, key, ns, fks = d
                ev = _Event(topic, etype or DEFAULT_TYPES[topic], key, ns, fks, obj)
                if topic == "Service":  # small, and the registration object moves on to a replacement
                    ev.payload = {topic: service_registration(obj)}
                elif topic == "Job" and self.world.job(obj.namespace, obj.id) is not obj:
                    # Deleted from the state store: JobEvent.Deleted (nomad/structs/event.go)
                    ev.payload = {topic: job_full(self.world, obj), "Deleted": True}
                events.append(ev)
        if not events:
            return
        self.entries.append(_Entry(index, events))
        if len(self.entries) > self.size:
            self.entries.popleft()
            self.first_seq += 1

    def cut(self) -> None:
        """End every stream open now, as a proxy cutting long responses would; new ones work."""
        with self.world.changed:
            self.cuts += 1
            self.world.changed.notify_all()

    def close(self) -> None:
        with self.world.changed:
            self.closed = True
            self.world.changed.notify_all()

    # ---------------------------------------------------------------- reading
    def _start(self, index: int) -> int:
        """EventBroker.Subscribe: index 0 starts at the oldest retained entry; otherwise
        StartAtClosest (the entry at index, else the next one; past the end, the last one)."""
        if not self.entries or index <= 0:
            return self.first_seq
        for k, e in enumerate(self.entries):
            if e.index >= index:
                return self.first_seq + k
        return self.next_seq - 1

    def _payload(self, ev: _Event) -> dict:
        if ev.payload is None:
            w, obj = self.world, ev.obj
            if ev.topic == "Allocation":
                body = alloc_full(w, obj)
                body.pop("Job", None)  # events.go: alloc.Job = nil
            elif ev.topic == "Job":
                body = job_full(w, obj)
            elif ev.topic == "Deployment":
                body = deployment_dict(obj)
            elif ev.topic == "Evaluation":
                body = eval_dict(obj)
            elif ev.topic == "Node":
                body = node_full(w, obj)
            else:
                body = service_registration(obj)
            ev.payload = {ev.topic: body}
        return ev.payload

    def _frame(self, entry: _Entry, topics, namespaces) -> bytes | None:
        out = []
        for ev in entry.events:
            for _ in range(matches(ev, topics, namespaces)):
                out.append(
                    {
                        "Topic": ev.topic,
                        "Type": ev.type,
                        "Key": ev.key,
                        "Namespace": ev.namespace,
                        "FilterKeys": ev.filter_keys,
                        "Index": entry.index,
                        "Payload": self._payload(ev),
                    }
                )
        return dumps({"Index": entry.index, "Events": out}) + b"\n" if out else None

    def stream(
        self, index: int, topics: dict[str, list[str]], namespaces: list[str], stopping: Callable[[], bool]
    ) -> Iterator[bytes]:
        """Newline-delimited frames for one subscriber, with heartbeats, until the sandbox stops
        or the subscriber falls out of the buffer (Nomad then closes the subscription)."""
        w = self.world
        with w.lock:
            cursor = self._start(index)
            cuts = self.cuts
        yield b"{}\n"  # NewJsonStream sends a heartbeat first
        beat = time.monotonic() + self.heartbeat
        while True:
            frames = []
            with w.changed:
                while not (self.closed or stopping() or self.cuts != cuts) and cursor >= self.next_seq:
                    remaining = beat - time.monotonic()
                    if remaining <= 0:
                        break
                    w.changed.wait(remaining)
                if self.closed or stopping() or self.cuts != cuts or cursor < self.first_seq:
                    return
                while cursor < self.next_seq:
                    frame = self._frame(self.entries[cursor - self.first_seq], topics, namespaces)
                    cursor += 1
                    if frame:
                        frames.append(frame)
            if frames:
                yield b"".join(frames)
            if time.monotonic() >= beat:
                beat += self.heartbeat
                yield b"{}\n"
