"""Pure page helpers: snapshot frames -> the tables the support pages show (no Streamlit import).

Every function takes DataFrames from ``views.Frames`` and returns a new DataFrame
(or plain values); nothing here mutates its input. Links are relative
(``client?client=x``) so they keep working behind a base URL path.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pandas as pd

from ui import redact
from views import ids
from views import status as vstatus

MAX_PARAM = 200
NO_VALUE = "–"  # a cell with nothing to say (a missing number would show as Streamlit's grey "None")


# ------------------------------------------------------------------ small words


def version_words(versions: pd.Series, periodic: pd.Series | None = None, parameterized: pd.Series | None = None):
    """Job versions as a table shows them: the number, else why there is none. A periodic or
    parameterized parent job is never placed itself (its children, "<job>/periodic-...", run), so
    Nomad's job list gives it no version to show; anything else without one is ``NO_VALUE``."""
    parent = pd.Series("", index=versions.index, dtype=object)
    if parameterized is not None:
        parent = parent.mask(parameterized.astype(bool), "parameterized parent")
    if periodic is not None:
        parent = parent.mask(periodic.astype(bool), "periodic parent")
    known = versions.where(versions.notna() & (versions >= 0))
    words = [
        str(int(v)) if v == v else (p or NO_VALUE) for v, p in zip(known.tolist(), parent.tolist())
    ]  # v == v: not NaN
    return pd.Series(words, index=versions.index, dtype=object)


def join_list(v) -> str:
    return ", ".join(str(x) for x in v) if isinstance(v, (list, tuple)) else ("" if v is None else str(v))


def clean_param(value, *, limit: int = MAX_PARAM) -> str:
    """A query-parameter value made safe to show and compare: str, stripped, printable, bounded."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    s = "".join(ch for ch in str(value) if ch.isprintable()).strip()
    return s[:limit]


def md_code(value, limit: int = 60) -> str:
    """Someone's input shown safely inside Markdown: an inline code span (no links, no formatting)."""
    s = clean_param(value, limit=limit).replace("`", "'")
    return f"`{s}`" if s else "`(empty)`"


# Punctuation Markdown (CommonMark, GFM, Streamlit's :color[] and :material: directives, $math$)
# can read anywhere in a line; '-', '.', '=', '/' and the like only matter at a block's start.
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()<>#+!|~:$&])")
_MD_LEAD = re.compile(r"^(\d*)([-.=])")  # "- item", "1. item", "---", "===" at the very start
# GFM turns bare URLs and e-mail addresses into links *after* escapes are resolved, so a backslash
# does not stop it: an invisible word joiner (U+2060) inside "http://", "www." and "a@b" does.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9+.-])(?=://)|(?<=\bwww)(?=\.)|(?=@)")


def md_text(value) -> str:
    """Text from the cluster, a server, the identity provider or the URL shown literally inside
    Markdown (st.markdown, captions, alerts, labels): every character Markdown reads is escaped,
    so ``[x](https://evil)``, ``![i](..)``, ``:red[..]``, backticks, ``# heading`` and HTML stay text;
    bare URLs and e-mail addresses get a word joiner so GFM does not link them; line breaks become
    spaces. The one escaping helper: use it (or a plain-text widget) for every such value."""
    s = "" if value is None else " ".join(str(value).split())
    return _MD_LEAD.sub(r"\1\\\2", _MD_PUNCT.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, s)))


# Status marks in tables are text symbols every font has (colour emoji show as empty boxes on
# machines without an emoji font); Markdown places use Streamlit's :material/...: icons.
DEPLOY_ICONS = {
    "successful": "✓",
    "failed": "✕",
    "cancelled": "○",
    "running": "↻",
    "pending": "↻",
    "initializing": "↻",
    "unblocking": "↻",
    "paused": "‖",
    "blocked": "‖",
}


alloc_badge = vstatus.alloc_badge  # allocation status icons live in views.status with the other palettes


def deploy_badge(status: str) -> str:
    return f"{DEPLOY_ICONS.get(status, '•')} {status}" if status else ""


def client_link(client: str) -> str:
    return f"client?client={quote(client, safe='')}"


def alloc_link(alloc_id: str, cluster: str = "") -> str:
    """The allocation page's link; ``cluster`` names the cluster that holds it (an allocation ID is
    unique per cluster only), so the link opens that cluster's allocation."""
    link = f"allocation?alloc={quote(alloc_id, safe='')}"
    return link + f"&cluster={quote(cluster, safe='')}" if cluster else link


def alloc_links(df: pd.DataFrame, ids: str = "alloc_id") -> pd.Series:
    """The ``alloc_link`` of every row (empty ID: None), with the row's cluster: a link keeps opening
    the right allocation when more clusters are added, and in a fleet view it must say which."""
    clusters = df["cluster"] if "cluster" in df.columns else pd.Series("", index=df.index)
    return pd.Series(
        [alloc_link(a, c or "") if a else None for a, c in zip(df[ids], clusters)], index=df.index, dtype=object
    )


def node_link(node: str) -> str:
    return f"nodes?node={quote(node, safe='')}"


# ------------------------------------------------------------------ client health


def status_counts(clients: pd.DataFrame) -> dict[str, int]:
    """Clients per status, in the views' order (worst first), zeros included."""
    counts = clients["status"].value_counts().to_dict() if len(clients) else {}
    out = {s: int(counts.get(s, 0)) for s in vstatus.STATUS_ORDER}
    for s, n in counts.items():  # a status the palette does not know still shows
        out.setdefault(s, int(n))
    return out


def datacenters_of(clients: pd.DataFrame) -> list[str]:
    seen: set[str] = set()
    for dcs in clients["datacenters"].tolist() if len(clients) else []:
        seen.update(dcs or [])
    return sorted(seen)


def filter_clients(clients: pd.DataFrame, *, statuses=(), datacenter: str = "", text: str = "") -> pd.DataFrame:
    """Clients worst first (views' rank, stable), filtered by status, datacenter and free text.

    Free text matches (case-insensitively) the client name, the reason, a version or a datacenter.
    """
    df = clients
    if statuses:
        df = df[df["status"].isin(list(statuses))]
    if datacenter:
        df = df[[datacenter in (d or []) for d in df["datacenters"].tolist()]]
    text = (text or "").strip().lower()
    if text:
        hay = (
            df["client"].str.lower()
            + " "
            + df["reason"].str.lower()
            + " "
            + df["versions"].map(join_list).str.lower()
            + " "
            + df["datacenters"].map(join_list).str.lower()
        )
        df = df[hay.str.contains(text, regex=False)]
    return df.sort_values("rank", kind="stable")


RESIDENCY_BADGES = {"forbidden": "✖ outside", "unknown": "? unknown", "no policy": "no policy"}


def residency_badge(flag: str) -> str:
    """The client-health residency cell (views.residency.client_flags); '' when all is allowed."""
    return RESIDENCY_BADGES.get(flag, flag or "")


# About three wrapped lines of the health grid's reason column at 1440 px; the client page has it all.
REASON_FITS = 100


def short_reason(reason: str, limit: int = REASON_FITS) -> str:
    """The worst findings that fit in ``limit`` characters, then '+N more' (findings are '; '-joined,
    worst first), so the cell support reads first is never cut mid-word."""
    if len(reason) <= limit:
        return reason
    findings = reason.split("; ")
    n = 1  # the worst finding always stays, whole
    while n < len(findings) and len("; ".join(findings[: n + 1])) <= limit - len("; +9 more"):
        n += 1
    rest = len(findings) - n
    return "; ".join(findings[:n]) + (f"; +{rest} more" if rest else "")


def short_list(values, keep: int = 3) -> str:
    """A list cell of the health grid: up to ``keep`` + 1 items whole, else the first ``keep`` and
    '+N more' (a grid row holds about four wrapped lines; the client page lists every job's version)."""
    items = [str(x) for x in values] if isinstance(values, (list, tuple)) else None
    if items is None or len(items) <= keep + 1:
        return join_list(values)
    return ", ".join(items[:keep]) + f", +{len(items) - keep} more"


def health_table(clients: pd.DataFrame) -> pd.DataFrame:
    """The rows the client-health page shows, in the given order (columns most-scanned first)."""
    desired = clients["desired"].astype("int64")
    running = clients["running"].astype("int64")
    ratio = (100.0 * running / desired.where(desired > 0)).clip(upper=100.0)  # empty bar when nothing is desired
    return pd.DataFrame(
        {
            "client": clients["client"].map(client_link),
            "status": clients["status"].map(vstatus.badge),
            "residency": clients["residency"].map(residency_badge) if "residency" in clients else "",
            "reason": clients["reason"].map(short_reason),
            "running": running.astype(str) + " / " + desired.astype(str),
            "running_ratio": ratio,
            "restarts_24h": clients["restarts_24h"],
            # What support scans first comes first; on a narrow screen the rest scrolls.
            "deployment_result": clients["last_deployment_status"].map(deploy_badge),
            "last_deployment": clients["last_deployment_time"],
            "datacenters": clients["datacenters"].map(join_list),
            "versions": clients["versions"].map(short_list),
        }
    ).reset_index(drop=True)


def deployed_words(results: pd.Series, times: pd.Series, now: pd.Timestamp | None = None) -> pd.Series:
    """'✓ successful, 3 h ago' per row: the last deployment's result and age in one short cell."""
    from views.words import ago_words

    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    ages = [None if pd.isna(t) else ago_words((now - pd.Timestamp(t)).total_seconds()) for t in times.tolist()]
    return pd.Series(
        [", ".join(p for p in (r, a) if p) for r, a in zip(results.fillna("").tolist(), ages)], index=results.index
    )


# ------------------------------------------------------------------ one client


def client_row(clients: pd.DataFrame, client: str) -> dict | None:
    hit = clients[clients["client"] == client]
    return hit.iloc[0].to_dict() if len(hit) else None


def client_jobs(jobs: pd.DataFrame, client: str) -> pd.DataFrame:
    """A client's jobs by name; with a Cluster column when they run in more than one cluster (the
    same job in two clusters is two rows, which only the cluster tells apart)."""
    df = jobs[jobs["client"] == client]
    out = (
        pd.DataFrame(
            {
                "cluster": df["cluster"],
                "job": df["job_id"],
                "type": df["type"],
                "status": df["status"],
                "version": version_words(df["job_version"], df["periodic"], df["parameterized"]),
                "app_version": df["app_version"],
                "running": df["running"].astype(str) + " / " + df["desired"].astype(str),
                "running_ratio": (100.0 * df["running"] / df["desired"].where(df["desired"] > 0)).clip(upper=100.0),
            }
        )
        .sort_values(["job", "cluster"], kind="stable")
        .reset_index(drop=True)
    )
    return out if out["cluster"].nunique() > 1 else out.drop(columns="cluster")


def client_allocations(allocs: pd.DataFrame, client: str, *, statuses=(), job: str = "") -> pd.DataFrame:
    """A client's allocations, troubled first, then newest first."""
    df = allocs[allocs["client"] == client]
    if statuses:
        df = df[df["client_status"].isin(list(statuses))]
    if job:
        df = df[df["job_id"] == job]
    return alloc_table(df)


def alloc_table(df: pd.DataFrame, *, with_client: bool = False) -> pd.DataFrame:
    """Allocation rows, troubled first (views.status.ALLOC_STATUS_ORDER), then newest first; ``with_client`` adds a link
    to each allocation's client after its status (a node's allocations belong to many clients)."""
    order = df["client_status"].map(vstatus.ALLOC_STATUS_ORDER).fillna(9)
    df = df.assign(_o=order).sort_values(["_o", "create_time"], ascending=[True, False], kind="stable")
    client = {"client": df["client"].map(client_link)} if with_client else {}
    return pd.DataFrame(
        {
            "allocation": alloc_links(df),
            "status": df["client_status"].map(alloc_badge),
            **client,
            "job": df["job_id"],
            "group": df["task_group"],
            "node": df["node_name"],
            "datacenter": df["datacenter"],
            "version": df["job_version"],
            "restarts": df["restarts"],
            "created": df["create_time"],
            "last_event": (df["last_event_type"] + ": " + df["last_event_message"]).str.strip(": "),
            "last_event_time": df["last_event_time"],
        }
    ).reset_index(drop=True)


def task_event_tables(events: pd.DataFrame) -> list[tuple[str, str, bool, pd.DataFrame]]:
    """One allocation's task events per task, by task name: (task, its state, whether it failed,
    its events newest first with a severity mark)."""
    return [
        (str(task), str(ev["task_state"].iloc[-1]), bool(ev["task_failed"].iloc[-1]), _events_shown(ev))
        for task, ev in events.groupby("task", sort=True, observed=True)  # a categorical: present tasks only
    ]


def _events_shown(ev: pd.DataFrame) -> pd.DataFrame:
    show = ev.sort_values("time", ascending=False)[["time", "type", "message", "severity"]]
    return show.assign(severity=show["severity"].map(severity_badge)).reset_index(drop=True)


def _meta_words(meta) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(meta.items())) if isinstance(meta, dict) else ""


def client_services(services: pd.DataFrame, client: str, checks: pd.DataFrame | None = None) -> pd.DataFrame:
    """A client's Consul service instances, worst first, with their tags, meta and check names."""
    df = services[services["client"] == client]
    rank = df["health"].map(vstatus.CHECK_RANK).fillna(1)
    df = df.assign(_r=rank).sort_values(["_r", "service", "node"], kind="stable")
    names: dict[str, str] = {}
    if checks is not None and len(checks) and len(df):
        mine = checks[checks["service_id"].isin(set(df["service_id"]))]
        for sid, group in mine.groupby("service_id", sort=False):
            names[sid] = ", ".join(f"{n} ({s})" for n, s in zip(group["name"], group["status"]))
    return pd.DataFrame(
        {
            "service": df["service"],
            "health": df["health"].map(check_badge),
            "checks": df["checks_passing"].astype(str) + " / " + df["checks_total"].astype(str) + " passing",
            "check_names": df["service_id"].map(lambda sid: names.get(sid, "")),
            "failing": df["failing_checks"],
            "output": df["check_output"],
            "tags": df["tags"].map(join_list),
            "meta": df["meta"].map(_meta_words),
            "version": df["version"],
            "node": df["node"],
            "address": df["address"] + ":" + df["port"].astype(str),
            "allocation": alloc_links(df),
        }
    ).reset_index(drop=True)


CHECK_ICONS = {"passing": "✓", "warning": "▲", "critical": "✕"}


def check_badge(status: str) -> str:
    return f"{CHECK_ICONS.get(status, '○')} {status}"


def client_deployments(deployments: pd.DataFrame, client: str, limit: int = 50) -> pd.DataFrame:
    df = deployments[deployments["client"] == client]
    t = df["modify_time"].fillna(df["create_time"])
    df = df.assign(_t=t).sort_values(["_t", "create_index"], ascending=False, kind="stable").head(limit)
    return pd.DataFrame(
        {
            "time": df["_t"],
            "job": df["job_id"],
            "version": df["job_version"],
            "status": df["status"].map(deploy_badge),
            "description": df["status_description"],
            "healthy": df["healthy"].astype(str) + " / " + df["desired_total"].astype(str),
            "deployment": df["short_id"],
        }
    ).reset_index(drop=True)


# ------------------------------------------------------------------ allocation lookup


def resolve_alloc(allocs: pd.DataFrame, value) -> tuple[dict | None, str]:
    """Find an allocation by full UUID or unique 8-character short ID.

    Returns (row, "") or (None, a message for people). Never raises on odd input.
    """
    raw = clean_param(value)
    v = raw.lower()
    if not v:
        return None, "No allocation given. Open one from a client page or search for its ID in the sidebar."
    shown = raw if len(raw) <= 40 else raw[:40] + "..."
    if not (ids.is_uuid(v) or ids.is_short_id(v)):
        return None, (
            f"{md_code(shown)} is not an allocation ID. Use the full ID (36 characters, like "
            "`5b1f2c3d-...`) or its first 8 characters."
        )
    hits = allocs[allocs["alloc_id"] == v] if len(v) == 36 else allocs[allocs["short_id"] == v]
    if len(hits) == 1:
        return hits.iloc[0].to_dict(), ""
    if len(hits) > 1 and hits["alloc_id"].nunique() == 1:
        return None, (
            f"Allocation `{v}` exists in {len(hits)} clusters ({', '.join(md_text(c) for c in hits['cluster'])}): "
            "pick the cluster below."
        )
    if len(hits) > 1:
        return None, f"{len(hits)} allocations start with `{v}`. Use the full allocation ID."
    return None, f"No allocation `{v}` in the cluster (it may have been garbage-collected)."


def alloc_clusters(allocs: pd.DataFrame, value) -> list[str]:
    """The clusters holding allocation ``value`` when it is one ID found in several (ask which); else []."""
    v = clean_param(value).lower()
    if not (ids.is_uuid(v) or ids.is_short_id(v)) or "cluster" not in allocs.columns:
        return []
    hits = allocs[allocs["alloc_id"] == v] if len(v) == 36 else allocs[allocs["short_id"] == v]
    if len(hits) > 1 and hits["alloc_id"].nunique() == 1:
        return hits["cluster"].tolist()
    return []


def resolve_node(nodes: pd.DataFrame, value) -> tuple[dict | None, str]:
    raw = clean_param(value)
    if not raw:
        return None, ""
    v = raw.lower()
    hits = nodes[(nodes["name"] == raw) | (nodes["node_id"] == v) | (nodes["short_id"] == v)]
    if len(hits) == 1:
        return hits.iloc[0].to_dict(), ""
    if len(hits) > 1:
        return None, f"{len(hits)} nodes match {md_code(raw, 40)}. Use the full node ID."
    return None, f"No node named or with ID {md_code(raw, 40)}."


def resource_table(res: pd.DataFrame) -> pd.DataFrame:
    """Resources per task as shown: a memory max of 0 means none was set (no oversubscription)."""
    return res.assign(memory_max_mb=res["memory_max_mb"].map(lambda v: str(int(v)) if v else "not set"))


# ------------------------------------------------------------------ raw allocation JSON

redact_allocation = redact.redact_allocation  # an allowlist of the fields support needs: ui/redact.py


# ------------------------------------------------------------------ nodes


def node_table(nodes: pd.DataFrame) -> pd.DataFrame:
    order = nodes["status"].map({"down": 0, "disconnected": 1, "initializing": 2, "ready": 3}).fillna(4)
    df = nodes.assign(_o=order).sort_values(["_o", "datacenter", "name"], kind="stable")
    return pd.DataFrame(
        {
            "node": df["name"].map(node_link),
            "status": df["status"].map(node_badge),
            "eligibility": df["eligibility"],
            "drain": df["drain"],
            "datacenter": df["datacenter"],
            "node_pool": df["node_pool"],
            "allocs_running": df["allocs_running"],
            "allocs_total": df["allocs_total"],
            "version": df["version"],
            "node_id": df["short_id"],
        }
    ).reset_index(drop=True)


NODE_ICONS = {"ready": "✓", "initializing": "◌", "disconnected": "▲", "down": "✕"}


def node_badge(status: str) -> str:
    return f"{NODE_ICONS.get(status, '○')} {status}"


def node_allocations(allocs: pd.DataFrame, node_id: str) -> pd.DataFrame:
    return alloc_table(allocs[allocs["node_id"] == node_id], with_client=True)


SEVERITY_ICONS = {"error": "✕", "warning": "▲", "info": "·"}


def severity_badge(severity: str) -> str:
    return f"{SEVERITY_ICONS.get(severity, '·')} {severity}"
