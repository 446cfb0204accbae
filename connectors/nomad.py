"""Nomad connector: wraps python-nomad's Requester and fixes its traps in one place.

Traps handled here (see docs/architecture.md and the reference README):
* `verify=False` is python-nomad's default: we always pass `settings.verify`
  (True, a CA path, or False only when NOMAD_SKIP_VERIFY says so) and the
  client cert/key pair.
* `nomad.Nomad()` reads NOMAD_* from the process environment: we never build
  it; each endpoint is a bare `Requester` fed only from our settings.
* The high-level helpers drop X-Nomad-Index: we call `.request(...)` and read
  the header ourselves, with `index`/`wait` and a timeout above the wait.
* `TimeoutNomadException` is not a `BaseNomadException`: both are caught.
* `params` dicts are mutated in place: every call gets a fresh copy.
* The token is sent per request (`token=` wins over the settings' token),
  never stored on the Requester (which would overwrite our header).
* Restart sends a body ({} / {"TaskName": t} / {"AllTasks": true}).
* Logs: never follow=True; the framed stream is read with a deadline and
  decoded by `connectors.logframes`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

import requests
import urllib3.exceptions
from nomad.api.base import Requester
from nomad.api.exceptions import BaseNomadException, TimeoutNomadException

from . import paths
from ._common import (
    USER_AGENT,
    Context,
    Listing,
    bad_json,
    check_blocking,
    from_exception,
    from_status,
    new_session,
    parse_index,
    request_timeout,
    wait_string,
)
from .errors import BadResponse, Forbidden, InvalidInput
from .event_stream import EventStream
from .logframes import FrameDecoder
from .settings import NomadSettings
from .slim import parse_list, shared_json, slim_allocation, slim_deployment

__all__ = ["Listing", "NomadConnector"]

MAX_TAIL_BYTES = 4 * 1024 * 1024
LOGS_DEADLINE = 10.0


class NomadConnector:
    """One Nomad cluster.  Thread-safe; share one instance per process."""

    source = "Nomad"

    def __init__(self, settings: NomadSettings, *, session: requests.Session | None = None):
        self.settings = settings
        self._session = session or new_session()
        self._requesters: dict[str, Requester] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"NomadConnector({self.settings!r})"

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ plumbing

    def _requester(self, endpoint: str) -> Requester:
        req = self._requesters.get(endpoint)
        if req is None:
            with self._lock:
                req = self._requesters.get(endpoint)
                if req is None:
                    s = self.settings
                    req = Requester(
                        address=s.addr,
                        namespace=None,  # we always send namespace ourselves
                        token=None,  # sent per request in our headers
                        timeout=s.timeout,
                        verify=s.verify,
                        cert=s.cert or (),
                        region=s.region,
                        session=self._session,
                    )
                    req.ENDPOINT = endpoint
                    self._requesters[endpoint] = req
        return req

    def _ctx(self, doing: str, token: str | None, missing: str | None = None, timeout: float | None = None) -> Context:
        explicit = token is not None
        effective = token if explicit else self.settings.token
        return Context(
            source="Nomad",
            addr=self.settings.addr,
            doing=doing,
            missing=missing,
            whose="Your" if explicit else "The dashboard's",
            has_token=bool(effective),
            timeout=timeout if timeout is not None else self.settings.timeout,
            secrets=(self.settings.token, token),
        )

    def _call(
        self,
        ctx: Context,
        method: str,
        endpoint: str,
        *segments: str,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        timeout: Any = None,
        stream: bool = False,
    ) -> requests.Response:
        tok = token if token is not None else self.settings.token
        headers = {"User-Agent": USER_AGENT}
        if tok:
            headers["X-Nomad-Token"] = tok
        try:
            return self._requester(endpoint).request(
                *segments,
                method=method,
                params=dict(params or {}),  # python-nomad mutates it
                json=json_body,
                headers=headers,
                timeout=timeout if timeout is not None else request_timeout(self.settings.timeout, None),
                stream=stream,
            )
        except (BaseNomadException, TimeoutNomadException) as err:
            inner = getattr(err, "nomad_resp", None)
            if inner is None and err.args:
                inner = err.args[0]
            if isinstance(inner, requests.Response):
                try:
                    body = inner.text
                finally:
                    inner.close()
                raise from_status(ctx, inner.status_code, body) from None
            if isinstance(inner, BaseException):
                raise from_exception(ctx, inner) from None
            raise from_exception(ctx, err) from None

    def _json(self, ctx: Context, resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError as err:
            raise bad_json(ctx, err) from None

    def _big_json(self, ctx: Context, resp: requests.Response) -> Any:
        """Parse a large body holding only one copy of it: the bytes are dropped before parsing.

        (resp.json() keeps the bytes alive while the text copy is parsed: at 100,000
        allocations that is ~300 MB more peak memory.)
        """
        try:
            try:
                body = resp.raw.read(decode_content=True)
            finally:
                resp.close()
            text = body.decode(resp.encoding if resp.encoding and resp.encoding.lower() != "iso-8859-1" else "utf-8")
            del body
            return json.loads(text)
        except (ValueError, UnicodeDecodeError) as err:
            raise bad_json(ctx, err) from None
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as err:
            raise from_exception(ctx, err) from None

    def _stream_json(self, ctx: Context, resp: requests.Response, element) -> Any:
        """Parse a list body chunk by chunk, passing each element through `element` (see connectors.slim)."""
        try:
            try:
                return parse_list(lambda n: resp.raw.read(n, decode_content=True), element)
            finally:
                resp.close()
        except (ValueError, UnicodeDecodeError) as err:
            raise bad_json(ctx, err) from None
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as err:
            raise from_exception(ctx, err) from None

    def _list(self, doing: str, endpoint: str, params: dict[str, Any], index, wait, token, element=None) -> Listing:
        index, wait = check_blocking(index, wait)
        params = dict(params)
        if index:
            params["index"] = index
            params["wait"] = wait_string(wait)
        ctx = self._ctx(doing, token)
        resp = self._call(
            ctx,
            "get",
            endpoint,
            token=token,
            params=params,
            timeout=request_timeout(self.settings.timeout, wait),
            stream=True,
        )
        data = self._big_json(ctx, resp) if element is None else self._stream_json(ctx, resp, element)
        if data is None:
            data = []
        if not isinstance(data, list):
            raise BadResponse(
                "Nomad", f"Nomad at {self.settings.addr} sent something other than a list while trying to {doing}."
            )
        return Listing(data, parse_index(resp.headers.get("X-Nomad-Index")))

    @staticmethod
    def _ns_words(namespace: str) -> str:
        return "in all namespaces" if namespace == "*" else f"in namespace {namespace}"

    def _namespace(self, namespace: str | None) -> str:
        ns = namespace or self.settings.namespace or "default"
        if ns != "*":
            paths.check_name(ns, "namespace")
        return ns

    # ------------------------------------------------------------------ lists

    def list_jobs(
        self, *, namespace: str = "*", index: int | None = None, wait: float | None = None, token: str | None = None
    ) -> Listing:
        ns = self._namespace(namespace)
        return self._list(
            f"list jobs {self._ns_words(ns)}",
            "jobs",
            {"namespace": ns, "meta": "true"},
            index,
            wait,
            token,
            shared_json,  # element by element: ~30 MB of body text at 100,000 allocations never held whole
        )

    def list_allocations(
        self,
        *,
        namespace: str = "*",
        task_states: bool = True,
        resources: bool = False,
        index: int | None = None,
        wait: float | None = None,
        token: str | None = None,
        slim: bool = False,
    ) -> Listing:
        """Allocation stubs.  `slim=True`: parsed one by one keeping only the fields the
        dashboard's views read (see connectors.slim), for a fraction of the memory."""
        ns = self._namespace(namespace)
        params = {"namespace": ns, "task_states": "true" if task_states else "false"}
        if resources:
            params["resources"] = "true"
        return self._list(
            f"list allocations {self._ns_words(ns)}",
            "allocations",
            params,
            index,
            wait,
            token,
            slim_allocation if slim else None,
        )

    def list_deployments(
        self,
        *,
        namespace: str = "*",
        index: int | None = None,
        wait: float | None = None,
        token: str | None = None,
        slim: bool = False,
    ) -> Listing:
        """Deployments (whole objects).  `slim=True`: parsed one by one keeping only the fields the
        dashboard reads (connectors.slim.slim_deployment)."""
        ns = self._namespace(namespace)
        return self._list(
            f"list deployments {self._ns_words(ns)}",
            "deployments",
            {"namespace": ns},
            index,
            wait,
            token,
            slim_deployment if slim else None,
        )

    def list_nodes(self, *, index: int | None = None, wait: float | None = None, token: str | None = None) -> Listing:
        return self._list("list client nodes", "nodes", {}, index, wait, token)

    def list_namespaces(
        self, *, index: int | None = None, wait: float | None = None, token: str | None = None
    ) -> Listing:
        return self._list("list namespaces", "namespaces", {}, index, wait, token)

    def list_services(
        self, *, namespace: str = "*", index: int | None = None, wait: float | None = None, token: str | None = None
    ) -> Listing:
        ns = self._namespace(namespace)
        return self._list(
            f"list Nomad services {self._ns_words(ns)}", "services", {"namespace": ns}, index, wait, token
        )

    def allocation_stub(self, alloc_id: str, *, token: str | None = None) -> dict[str, Any] | None:
        """One allocation's list stub (AllocListStub, no task states), None if Nomad has no such
        allocation. An event's Allocation has no Job (nomad/state/events.go), so JobType and
        JobVersion of a new allocation come from here: a prefix list of one, not the full job."""
        aid = paths.alloc_id(alloc_id)
        listing = self._list(
            f"read allocation {aid}",
            "allocations",
            {"namespace": "*", "prefix": aid, "task_states": "false"},
            None,
            None,
            token,
        )
        return next((a for a in listing.data if isinstance(a, dict) and a.get("ID") == aid), None)

    def job_stub(self, namespace: str, job_id: str, *, token: str | None = None) -> dict[str, Any] | None:
        """One job's list stub (JobListStub with its JobSummary and Meta), None if Nomad has no such
        job. The jobs list's own request narrowed by prefix (nomad/job_endpoint.go Job.List), so
        the stub is the very one the whole list holds; other jobs sharing the prefix are dropped."""
        ns = self._namespace(namespace)
        if ns == "*" or not isinstance(job_id, str) or not job_id:
            raise InvalidInput("Nomad", "A job is read by its own namespace and ID")
        listing = self._list(
            f"read job {job_id} in namespace {ns}",
            "jobs",
            {"namespace": ns, "prefix": job_id, "meta": "true"},
            None,
            None,
            token,
        )
        return next(
            (j for j in listing.data if isinstance(j, dict) and j.get("ID") == job_id and j.get("Namespace") == ns),
            None,
        )

    # ------------------------------------------------------------------ event stream

    def stream_events(
        self,
        topics: Iterable[str],
        index: int = 0,
        namespace: str = "*",
        *,
        token: str | None = None,
        idle_timeout: float = 45.0,
        heartbeats: bool = False,
    ) -> EventStream:
        """Follow /v1/event/stream: yields each frame ``{"Index": n, "Events": [...]}`` as it comes.

        ``topics`` are Nomad's ``Topic`` or ``Topic:key`` filters; ``index`` resumes after a
        reconnect (Nomad starts at the closest index it still keeps, later when that one is gone).
        The ``{}`` heartbeats Nomad sends at once and every 30 s are skipped (yielded as ``{}``
        with ``heartbeats=True``); a stream silent for ``idle_timeout`` seconds is a timeout. The
        generator ends when the server closes the stream (Nomad closes a refused or lagging
        subscription that way); refusals with a status raise the usual ConnectorError.
        The request is made on the first ``next()``; ``close()`` may be called from any thread
        and wakes a reader waiting for the next line at once (the iteration just ends).
        """
        ns = self._namespace(namespace)
        params: dict[str, Any] = {"namespace": ns}
        topic_list = [str(t) for t in topics]
        for t in topic_list:
            if not t or any(c in t for c in "&=#?/ "):
                raise InvalidInput("Nomad", f"Not a valid event topic: {t!r}")
        if topic_list:
            params["topic"] = topic_list
        if index and int(index) > 0:
            params["index"] = int(index)
        ctx = self._ctx(f"follow the event stream {self._ns_words(ns)}", token)

        def open_stream() -> requests.Response:
            return self._call(
                ctx,
                "get",
                "event",
                "stream",
                token=token,
                params=params,
                timeout=(self.settings.timeout, idle_timeout),
                stream=True,
            )

        return EventStream(open_stream, ctx, heartbeats=heartbeats, addr=self.settings.addr)

    # ------------------------------------------------------------------ single objects

    def get_allocation(
        self, alloc_id: str, *, namespace: str | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The full allocation (task states, events, resources)."""
        aid = paths.alloc_id(alloc_id)
        params = {}
        if namespace:
            params["namespace"] = self._namespace(namespace)
        ctx = self._ctx(f"read allocation {aid}", token, missing=f"allocation {aid}")
        data = self._json(ctx, self._call(ctx, "get", "allocation", aid, token=token, params=params))
        if not isinstance(data, dict):
            raise BadResponse(
                "Nomad", f"Nomad at {self.settings.addr} sent something other than an allocation for {aid}."
            )
        return data

    def get_job(self, job_id: str, *, namespace: str | None = None, token: str | None = None) -> dict[str, Any]:
        ns = self._namespace(namespace)
        seg = paths.segment(job_id, "job ID")
        ctx = self._ctx(f"read job {job_id} in namespace {ns}", token, missing=f"job {job_id} in namespace {ns}")
        data = self._json(ctx, self._call(ctx, "get", "job", seg, token=token, params={"namespace": ns}))
        if not isinstance(data, dict):
            raise BadResponse("Nomad", f"Nomad at {self.settings.addr} sent something other than a job for {job_id}.")
        return data

    def job_versions(
        self, job_id: str, *, namespace: str | None = None, diffs: bool = False, token: str | None = None
    ) -> dict[str, Any]:
        """`{"Versions": [job...], "Diffs": [...] | None, ...}` (newest first)."""
        ns = self._namespace(namespace)
        seg = paths.segment(job_id, "job ID")
        params = {"namespace": ns}
        if diffs:
            params["diffs"] = "true"
        ctx = self._ctx(
            f"read the versions of job {job_id} in namespace {ns}", token, missing=f"job {job_id} in namespace {ns}"
        )
        data = self._json(ctx, self._call(ctx, "get", "job", seg, "versions", token=token, params=params))
        if isinstance(data, list):  # very old servers sent a bare list
            data = {"Versions": data, "Diffs": None}
        if not isinstance(data, dict):
            raise BadResponse("Nomad", f"Nomad at {self.settings.addr} sent unreadable versions for job {job_id}.")
        return data

    def job_allocations(
        self, job_id: str, *, namespace: str | None = None, token: str | None = None
    ) -> list[dict[str, Any]]:
        """The job's allocation stubs (every version, terminal ones included), fresh from Nomad."""
        ns = self._namespace(namespace)
        seg = paths.segment(job_id, "job ID")
        ctx = self._ctx(
            f"list the allocations of job {job_id} in namespace {ns}", token, missing=f"job {job_id} in namespace {ns}"
        )
        data = self._json(ctx, self._call(ctx, "get", "job", seg, "allocations", token=token, params={"namespace": ns}))
        if data is None:
            return []
        if not isinstance(data, list):
            raise BadResponse(
                "Nomad", f"Nomad at {self.settings.addr} sent something other than a list of allocations for {job_id}."
            )
        return data

    def status_leader(self, *, token: str | None = None) -> str:
        ctx = self._ctx("find the cluster leader", token)
        return str(self._json(ctx, self._call(ctx, "get", "status", "leader", token=token)))

    # ------------------------------------------------------------------ logs

    def logs(
        self,
        alloc_id: str,
        task: str,
        kind: str = "stdout",
        tail_bytes: int = 64 * 1024,
        *,
        namespace: str | None = None,
        token: str | None = None,
        deadline: float = LOGS_DEADLINE,
    ) -> str:
        """The last `tail_bytes` of a task's stdout/stderr, decoded as text (never follows)."""
        aid = paths.alloc_id(alloc_id)
        paths.check_name(task, "task name")
        if kind not in ("stdout", "stderr"):
            raise InvalidInput("Nomad", f"Log kind must be 'stdout' or 'stderr', not {kind!r}")
        if not isinstance(tail_bytes, int) or not 0 < tail_bytes <= MAX_TAIL_BYTES:
            raise InvalidInput("Nomad", f"tail_bytes must be between 1 and {MAX_TAIL_BYTES}")
        params = {
            "task": task,
            "type": kind,
            "origin": "end",
            "offset": tail_bytes,
            "follow": "false",
            "plain": "false",
        }
        if namespace:
            params["namespace"] = self._namespace(namespace)
        ctx = self._ctx(
            f"read the {kind} logs of task {task} in allocation {aid}",
            token,
            missing=f"{kind} log for task {task} in allocation {aid}",
        )
        resp = self._call(ctx, "get", "client", "fs", "logs", aid, token=token, params=params, stream=True)
        decoder = FrameDecoder()
        complete = True
        stop_at = time.monotonic() + deadline
        try:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                decoder.feed(chunk)
                if time.monotonic() > stop_at:  # a server that never closes: keep what we have
                    complete = False
                    break
            return decoder.close(complete=complete).text()
        except ValueError as err:
            raise BadResponse(
                "Nomad",
                f"Nomad sent log data the dashboard cannot read for task {task} in allocation {aid}.",
                detail=str(err)[:200],
            ) from None
        except (requests.RequestException, OSError) as err:
            raise from_exception(ctx, err) from None
        finally:
            resp.close()

    # ------------------------------------------------------------------ actions / auth

    def restart_allocation(
        self,
        alloc_id: str,
        task: str | None = None,
        all_tasks: bool = False,
        *,
        namespace: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Restart one task, all tasks (incl. finished sidecars), or (neither) the running tasks."""
        aid = paths.alloc_id(alloc_id)
        if task is not None and all_tasks:
            raise InvalidInput("Nomad", "Choose either one task or all tasks to restart, not both")
        body: dict[str, Any] = {}
        if task is not None:
            body["TaskName"] = paths.check_name(task, "task name")
        elif all_tasks:
            body["AllTasks"] = True
        params = {}
        where = ""
        if namespace:
            params["namespace"] = self._namespace(namespace)
            where = f" in namespace {namespace}"
        ctx = self._ctx(f"restart allocations{where}", token, missing=f"allocation {aid} (or its client node is down)")
        resp = self._call(
            ctx, "post", "client", "allocation", aid, "restart", token=token, params=params, json_body=body
        )
        data = self._json(ctx, resp) if resp.content.strip() else {}
        return data if isinstance(data, dict) else {}

    def stop_allocation(
        self,
        alloc_id: str,
        *,
        namespace: str | None = None,
        no_shutdown_delay: bool = False,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Stop an allocation: Nomad's scheduler places a replacement elsewhere (`{"EvalID", "Index"}`)."""
        aid = paths.alloc_id(alloc_id)
        params = {"no_shutdown_delay": "true"} if no_shutdown_delay else {}
        where = ""
        if namespace:
            params["namespace"] = self._namespace(namespace)
            where = f" in namespace {namespace}"
        ctx = self._ctx(f"stop allocations{where}", token, missing=f"allocation {aid}")
        resp = self._call(ctx, "post", "allocation", aid, "stop", token=token, params=params, json_body={})
        data = self._json(ctx, resp) if resp.content.strip() else {}
        return data if isinstance(data, dict) else {}

    def login_jwt(self, method: str, jwt: str) -> dict[str, Any]:
        """Exchange a JWT/OIDC ID token for a Nomad ACL token (POST /v1/acl/login).

        Returns Nomad's ACL token object; its `SecretID` is a credential.
        """
        paths.check_name(method, "auth method name")
        if not isinstance(jwt, str) or not jwt or len(jwt) > 64 * 1024:
            raise InvalidInput("Nomad", "The login token is empty or too long")
        ctx = self._ctx(f"log in with auth method {method}", "")
        ctx.secrets = (jwt, self.settings.token)
        try:
            resp = self._call(
                ctx, "post", "acl", "login", token="", json_body={"AuthMethodName": method, "LoginToken": jwt}
            )
        except (Forbidden, BadResponse) as err:
            if err.status is None:
                raise
            raise type(err)(
                "Nomad",
                f"Nomad refused the login with auth method {method} (Nomad said: {err.detail})",
                status=err.status,
                detail=err.detail,
            ) from None
        data = self._json(ctx, resp)
        if not isinstance(data, dict) or "SecretID" not in data:
            raise BadResponse("Nomad", f"Nomad at {self.settings.addr} did not return a token for the login.")
        return data
