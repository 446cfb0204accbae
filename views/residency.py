"""Data residency: where each client's workloads may run, and where they do (pure; no streamlit import).

A ``Policy`` (``[residency]`` in dashboard.toml) gives each client, or the default, the
datacenters and/or regions it may run in. A placement is judged:

* ``allowed``: its datacenter is listed, or its region is;
* ``forbidden``: its datacenter (and region, when known) is known and not listed;
* ``unknown``: the datacenter cannot be told (a node the snapshot does not know), or the
  policy lists only regions and the cluster's region is not known;
* not placed (a pending allocation with no node yet) is not judged: the job check covers it.

``violations`` lists every forbidden or unknown placement of a client that has a policy:
Nomad allocations that are running or about to (``kind`` ``allocation``), Consul service
instances (``service``) and the nodes those allocations sit on (``node``), each with since
when. ``unpoliced`` lists clients with no policy. ``job_warnings`` warns before it happens:
a job whose ``Datacenters`` (patterns, as Nomad matches them) allow a forbidden datacenter.

Datacenter names are compared as they are: if Consul's datacenter names differ from Nomad's,
list both in the policy. Every frame carries ``cluster`` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

ALLOWED, FORBIDDEN, UNKNOWN = "allowed", "forbidden", "unknown"
LIVE_ALLOC_STATUSES = ("running", "pending")

VIOLATION_COLUMNS = (
    "cluster",
    "client",
    "verdict",
    "kind",
    "job_id",
    "alloc_id",
    "service",
    "node",
    "datacenter",
    "region",
    "allowed",
    "since",
)
UNPOLICED_COLUMNS = ("cluster", "client", "datacenters", "jobs")
JOB_WARNING_COLUMNS = ("cluster", "client", "namespace", "job_id", "datacenters", "forbidden", "allowed")


@dataclass(frozen=True)
class Allowed:
    """Where one client may run: any listed datacenter, or anywhere in a listed region."""

    datacenters: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.datacenters:
            parts.append(", ".join(self.datacenters))
        if self.regions:
            parts.append("region " + ", ".join(self.regions))
        return "; ".join(parts) or "nowhere"

    def judge(self, datacenter: str, region: str = "") -> str:
        """allowed | forbidden | unknown for one placement."""
        if datacenter and datacenter in self.datacenters:
            return ALLOWED
        if region and region in self.regions:
            return ALLOWED
        if not datacenter:
            return UNKNOWN
        if self.regions and not region:
            return UNKNOWN  # it might be in an allowed region: cannot tell
        return FORBIDDEN


@dataclass(frozen=True)
class Policy:
    """The residency policy: per-client rules, and a default for clients not listed (None: no default)."""

    clients: Mapping[str, Allowed] = field(default_factory=dict)
    default: Allowed | None = None

    def for_client(self, client: str) -> Allowed | None:
        return self.clients.get(client, self.default)

    @property
    def configured(self) -> bool:
        return bool(self.clients) or self.default is not None


NO_POLICY = Policy()


def _frame(rows: list[dict], columns: Sequence[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(columns))
    if "since" in df.columns:
        df["since"] = pd.to_datetime(df["since"], utc=True)
    for c in ("jobs",):
        if c in df.columns:
            df[c] = df[c].astype("int64")
    return df


def _region(regions: Mapping[str, str] | str | None, cluster: str) -> str:
    if isinstance(regions, str):
        return regions
    return (regions or {}).get(cluster, "")


def violations(
    frames, policy: Policy, *, regions: Mapping[str, str] | str | None = None, include_unknown: bool = True
) -> pd.DataFrame:
    """Every placement of a client with a policy that runs where the policy does not allow.

    ``regions`` maps cluster name -> its region label (or one label for every cluster).
    Rows are forbidden first, then unknown; each kind in client order.
    """
    rows: list[dict] = []
    allocs = frames.allocations
    live_since: dict[str, pd.Timestamp] = {}
    verdicts: dict[tuple[str, str, str], tuple[str, str, str]] = {}

    def judge(cl: str, client: str, dc: str) -> tuple[str, str, str]:
        """(verdict, region, allowed words) per cluster, client and datacenter: computed once each."""
        key = (cl, client, dc)
        hit = verdicts.get(key)
        if hit is None:
            rule = policy.for_client(client) if client else None
            region = _region(regions, cl)
            hit = verdicts[key] = (
                ("", region, "") if rule is None else (rule.judge(dc, region), region, rule.describe())
            )
        return hit

    if len(allocs):
        live = allocs[allocs["client_status"].isin(LIVE_ALLOC_STATUSES) & (allocs["desired_status"] == "run")]
        nodes: dict[tuple[str, str, str], list] = {}
        for cl, client, jid, aid, node_id, node, dc, created in zip(
            live["cluster"].tolist(),
            live["client"].tolist(),
            live["job_id"].tolist(),
            live["alloc_id"].tolist(),
            live["node_id"].tolist(),
            live["node_name"].tolist(),
            live["datacenter"].tolist(),
            list(live["create_time"]),
        ):
            live_since[aid] = created
            if not node_id:
                continue  # not placed yet: job_warnings covers it
            verdict, region, allowed = judge(cl, client, dc)
            if verdict in ("", ALLOWED) or (verdict == UNKNOWN and not include_unknown):
                continue  # no policy (listed by unpoliced), or allowed
            row = {
                "cluster": cl,
                "client": client,
                "verdict": verdict,
                "kind": "allocation",
                "job_id": jid,
                "alloc_id": aid,
                "service": "",
                "node": node or node_id,
                "datacenter": dc,
                "region": region,
                "allowed": allowed,
                "since": created,
            }
            rows.append(row)
            key = (cl, client, node or node_id)
            hit = nodes.get(key)
            if hit is None:
                nodes[key] = [row, {jid}, created]
            else:
                hit[1].add(jid)
                if pd.notna(created) and (pd.isna(hit[2]) or created < hit[2]):
                    hit[2] = created
        for row, jids, first in nodes.values():
            rows.append({**row, "kind": "node", "job_id": ", ".join(sorted(jids)), "alloc_id": "", "since": first})
    services = frames.services
    if len(services):
        for cl, client, svc, aid, node, dc in zip(
            services["cluster"].tolist(),
            services["client"].tolist(),
            services["service"].tolist(),
            services["alloc_id"].tolist(),
            services["node"].tolist(),
            services["datacenter"].tolist(),
        ):
            verdict, region, allowed = judge(cl, client, dc)
            if verdict in ("", ALLOWED) or (verdict == UNKNOWN and not include_unknown):
                continue
            rows.append(
                {
                    "cluster": cl,
                    "client": client,
                    "verdict": verdict,
                    "kind": "service",
                    "job_id": "",
                    "alloc_id": aid,
                    "service": svc,
                    "node": node,
                    "datacenter": dc,
                    "region": region,
                    "allowed": allowed,
                    "since": live_since.get(aid, pd.NaT),
                }
            )
    df = _frame(rows, VIOLATION_COLUMNS)
    if len(df):
        order = {FORBIDDEN: 0, UNKNOWN: 1}
        kinds = {"allocation": 0, "service": 1, "node": 2}
        df = (
            df.assign(_v=df["verdict"].map(order), _k=df["kind"].map(kinds))
            .sort_values(["_v", "_k", "cluster", "client", "job_id", "node"], kind="stable")
            .drop(columns=["_v", "_k"])
            .reset_index(drop=True)
        )
    return df


def unpoliced(frames, policy: Policy) -> pd.DataFrame:
    """Clients the policy says nothing about (no entry and no default), with where they run."""
    clients = frames.clients
    if not len(clients) or policy.default is not None:
        return _frame([], UNPOLICED_COLUMNS)
    rows = [
        {"cluster": cl, "client": c, "datacenters": list(dcs or []), "jobs": int(n)}
        for cl, c, dcs, n in zip(
            clients["cluster"].tolist(), clients["client"].tolist(), clients["datacenters"].tolist(), clients["jobs"]
        )
        if c and policy.for_client(c) is None
    ]
    return _frame(sorted(rows, key=lambda r: (r["cluster"], r["client"])), UNPOLICED_COLUMNS)


def _matches(pattern: str, datacenter: str) -> bool:
    # Nomad's Node.IsInAnyDC matches a job's datacenters with ryanuber/go-glob: only "*" is a
    # wildcard (any run of characters); "?" and "[" are literal. "*" is the default since Nomad 1.5.
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), datacenter) is not None


def job_warnings(
    frames, policy: Policy, *, regions: Mapping[str, str] | str | None = None, known_datacenters: Iterable[str] = ()
) -> pd.DataFrame:
    """Jobs whose Datacenters list allows a datacenter their client's policy forbids.

    A literal datacenter is judged as it is; a pattern (``*``, ``ca-*``) by the datacenters it
    matches among ``known_datacenters`` (default: the nodes' datacenters). Stopped jobs are skipped.
    """
    jobs = frames.jobs
    if not len(jobs):
        return _frame([], JOB_WARNING_COLUMNS)
    known = set(known_datacenters)
    if not known and len(frames.nodes):
        known = set(frames.nodes["datacenter"].tolist()) - {""}
    rows = []
    for cl, client, ns, jid, dcs, stop in zip(
        jobs["cluster"].tolist(),
        jobs["client"].tolist(),
        jobs["namespace"].tolist(),
        jobs["job_id"].tolist(),
        jobs["datacenters"].tolist(),
        jobs["stop"].tolist(),
    ):
        rule = policy.for_client(client) if client else None
        if rule is None or stop or not dcs:
            continue
        region = _region(regions, cl)
        bad: list[str] = []
        for pattern in dcs:
            is_glob = "*" in pattern
            hits = sorted(d for d in known if _matches(pattern, d)) if is_glob else [pattern]
            bad += [d for d in hits if rule.judge(d, region) == FORBIDDEN and d not in bad]
        if bad:
            rows.append(
                {
                    "cluster": cl,
                    "client": client,
                    "namespace": ns,
                    "job_id": jid,
                    "datacenters": list(dcs),
                    "forbidden": bad,
                    "allowed": rule.describe(),
                }
            )
    return _frame(rows, JOB_WARNING_COLUMNS)


def client_flags(violations_df: pd.DataFrame, unpoliced_df: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    """(cluster, client) -> (flag, reason) for the client-health row; clients with nothing to say are absent.

    flag: ``forbidden`` | ``unknown`` | ``no policy``.
    """
    out: dict[tuple[str, str], tuple[str, str]] = {}
    per: dict[
        tuple[str, str], list
    ] = {}  # (cluster, client) -> [forbidden dcs, forbidden allocs, forbidden, placements]
    if len(violations_df):
        for cl, client, kind, verdict, dc in zip(
            violations_df["cluster"].tolist(),
            violations_df["client"].tolist(),
            violations_df["kind"].tolist(),
            violations_df["verdict"].tolist(),
            violations_df["datacenter"].tolist(),
        ):
            if kind == "node":
                continue  # the node rows repeat what the allocations say
            p = per.setdefault((cl, client), [set(), 0, 0, 0])
            p[3] += 1
            if verdict == FORBIDDEN:
                p[2] += 1
                if dc:
                    p[0].add(dc)
                if kind == "allocation":
                    p[1] += 1
    for key, (dcs, n_allocs, n_bad, n_all) in per.items():
        if n_bad:
            what = (
                f"{n_allocs} allocation{'s' if n_allocs != 1 else ''}" if n_allocs else f"{n_bad} service instance(s)"
            )
            out[key] = (FORBIDDEN, f"residency: {what} in {', '.join(sorted(dcs))} (not allowed)")
        else:
            out[key] = (UNKNOWN, f"residency: {n_all} placement(s) in a datacenter that cannot be told")
    for cl, client in zip(unpoliced_df["cluster"].tolist(), unpoliced_df["client"].tolist()):
        out.setdefault((cl, client), ("no policy", "residency: no policy for this client"))
    return out
