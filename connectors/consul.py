"""Consul connector: wraps py-consul and fixes its traps in one place.

Traps handled here:
* No request timeout by default (older py-consul) / env-dependent behaviour:
  our own HTTP client subclass sets (connect, read) timeouts on every
  request, with the blocking wait + jitter added to the read timeout.
* `self.token = os.getenv("CONSUL_HTTP_TOKEN", token)` lets the environment
  override an explicit token: we build the client with no token, reset
  `.token` to None, and pass the token explicitly on every call.
* `agent.*` and `status.leader()` send no token: we never use agent.*, and
  status_leader() goes through the HTTP client with our token header.
* CONSUL_HTTP_ADDR/CONSUL_HTTP_SSL* are read by py-consul only when host/port
  are None: we always pass host, port, scheme and verify explicitly.
* Network failures surface as raw requests exceptions; HTTP errors as
  several py-consul exceptions: both become our ConnectorError subclasses.
* The index comes back as a header string: we return it as an int.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

import consul.std
import requests
import urllib3.exceptions
from consul.callback import CB
from consul.exceptions import ConsulException

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
from .errors import BadResponse, ConnectorError, InvalidInput
from .settings import ConsulSettings
from .slim import parse_list, slim_catalog_entry, slim_check

__all__ = ["ConsulConnector", "Listing"]

_STATES = ("any", "passing", "warning", "critical", "unknown")


class _HTTPStatusError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(status)
        self.status = status
        self.body = body


class _IndexCapture(threading.local):
    index: int = 0


class _HTTPClient(consul.std.HTTPClient):
    """py-consul's sync client with explicit timeouts, a shared session and our status handling."""

    def __init__(
        self, host, port, scheme, verify, cert, *, timeout: float, session: requests.Session, path_prefix: str = ""
    ):
        consul.base.HTTPClient.__init__(self, host, port, scheme, verify, cert)
        if ":" in str(host) and not str(host).startswith("["):
            self.base_uri = f"{scheme}://[{host}]:{port}"  # IPv6 literal
        # A path in CONSUL_HTTP_ADDR (Consul behind a reverse proxy at /consul) prefixes every request.
        self.base_uri += path_prefix
        self.session = session
        self.request_timeout = timeout
        self.connections_timeout = timeout
        self.last = _IndexCapture()

    def _timeout(self, params) -> Any:
        p = dict(params or ())
        wait = None
        if "index" in p:
            from consul.std import parse_duration

            wait = parse_duration(str(p.get("wait", "5m"))) or 300.0
        return request_timeout(self.request_timeout, wait)

    def timeout(self, params):  # py-consul's own hook, in case a base method uses it
        return self._timeout(params)

    def _send(self, method: str, path: str, params, headers, data=None, stream: bool = False) -> requests.Response:
        uri = self.uri(path, params)
        hdrs = {"User-Agent": USER_AGENT}
        hdrs.update(headers or {})
        resp = self.session.request(
            method,
            uri,
            headers=hdrs,
            data=data,
            verify=self.verify,
            cert=self.cert,
            timeout=self._timeout(params),
            allow_redirects=False,
            stream=stream,
        )
        if not 200 <= resp.status_code < 300:
            body = resp.text
            resp.close()
            raise _HTTPStatusError(resp.status_code, body)
        self.last.index = parse_index(resp.headers.get("X-Consul-Index"))
        return resp

    def get(self, callback, path, params=None, headers=None, raw: bool = False):
        return callback(self.response(self._send("GET", path, params, headers), raw=raw))

    def put(self, callback, path, params=None, data="", headers=None):
        return callback(self.response(self._send("PUT", path, params, headers, data)))

    def post(self, callback, path, params=None, data="", headers=None):
        return callback(self.response(self._send("POST", path, params, headers, data)))

    def delete(self, callback, path, params=None, data="", headers=None):
        return callback(self.response(self._send("DELETE", path, params, headers, data)))


class _Consul(consul.std.Consul):
    def __init__(self, settings: ConsulSettings, session: requests.Session):
        self._dash_settings = settings
        self._dash_session = session
        parts = urllib.parse.urlsplit(settings.addr)
        scheme = parts.scheme or "http"
        port = parts.port or (443 if scheme == "https" else 80)
        super().__init__(
            host=parts.hostname,
            port=port,
            scheme=scheme,
            token=None,
            verify=settings.verify,
            cert=settings.cert,
            connections_timeout=settings.timeout,
        )
        self.token = None  # py-consul copies CONSUL_HTTP_TOKEN here; we send tokens per call

    def http_connect(self, host, port, scheme, verify=True, cert=None):
        prefix = urllib.parse.urlsplit(self._dash_settings.addr).path.rstrip("/")
        return _HTTPClient(
            host,
            port,
            scheme,
            verify,
            cert,
            timeout=self._dash_settings.timeout,
            session=self._dash_session,
            path_prefix=prefix,
        )


class ConsulConnector:
    """One Consul datacenter.  Thread-safe; share one instance per process."""

    source = "Consul"

    def __init__(self, settings: ConsulSettings, *, session: requests.Session | None = None):
        self.settings = settings
        if session is None:
            session = new_session()
        self._session = session
        self._c = _Consul(settings, session)

    def __repr__(self) -> str:
        return f"ConsulConnector({self.settings!r})"

    def close(self) -> None:
        self._session.close()

    def _ctx(self, doing: str, token: str | None, missing: str | None = None) -> Context:
        explicit = token is not None
        effective = token if explicit else self.settings.token
        return Context(
            source="Consul",
            addr=self.settings.addr,
            doing=doing,
            missing=missing,
            whose="Your" if explicit else "The dashboard's",
            has_token=bool(effective),
            timeout=self.settings.timeout,
            secrets=(self.settings.token, token),
        )

    def _token(self, token: str | None) -> str | None:
        """An explicit token always wins; else the settings' token; never the process env."""
        tok = token if token is not None else self.settings.token
        return tok or None

    def _run(self, ctx: Context, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConnectorError:
            raise
        except _HTTPStatusError as err:
            raise from_status(ctx, err.status, err.body) from None
        except ConsulException as err:  # JSON decoding / missing index header
            raise bad_json(ctx, err) from None
        except requests.RequestException as err:
            raise from_exception(ctx, err) from None
        except (ValueError, TypeError, KeyError) as err:
            raise bad_json(ctx, err) from None

    def _listing(self, ctx: Context, result, kind: type) -> Listing:
        index, data = result
        if data is None:
            data = kind()
        if not isinstance(data, kind):
            raise BadResponse(
                "Consul", f"Consul at {self.settings.addr} sent an unexpected shape while trying to {ctx.doing}."
            )
        return Listing(data, parse_index(index))

    def _slim_list(
        self,
        ctx: Context,
        path: str,
        index: int | None,
        wait: float | None,
        token: str | None,
        element,
        filter: str | None = None,
    ) -> Listing:
        """GET a list read by the dashboard and parse it element by element, keeping only
        the fields its views read (connectors.slim).  Same requests and errors as the
        py-consul path; used for the big catalog/health reads of the snapshot."""
        params = []
        if index:  # a blocking query; without a wait Consul holds it for its default (5 min)
            params = [("index", index)] + ([("wait", wait_string(wait))] if wait else [])
        if filter:
            params.append(("filter", filter))
        headers = self._c.prepare_headers(self._token(token))
        http = self._c.http

        def fetch():
            resp = http._send("GET", path, params, headers, stream=True)
            try:
                data = parse_list(lambda n: resp.raw.read(n, decode_content=True), element)
            except (urllib3.exceptions.HTTPError, OSError) as err:
                raise requests.exceptions.ConnectionError(err) from None
            finally:
                resp.close()
            return resp.headers.get("X-Consul-Index"), data

        return self._listing(ctx, self._run(ctx, fetch), list)

    # ------------------------------------------------------------------ reads

    def catalog_services(
        self,
        *,
        index: int | None = None,
        wait: float | None = None,
        token: str | None = None,
        filter: str | None = None,
    ) -> Listing:
        """`{service name: [tags]}` for the whole datacenter (`filter`: of the instances whose names
        and tags are listed, go-bexpr over the catalog entries; the index is the same)."""
        index, wait = check_blocking(index, wait)
        ctx = self._ctx("list the services in the Consul catalog", token)
        if filter:
            return self._listing(
                ctx, self._run(ctx, self._get_json, "/v1/catalog/services", index, wait, token, filter), dict
            )
        result = self._run(
            ctx,
            self._c.catalog.services,
            index=index,
            wait=wait_string(wait) if wait else None,
            token=self._token(token),
        )
        return self._listing(ctx, result, dict)

    def catalog_service(
        self,
        name: str,
        *,
        index: int | None = None,
        wait: float | None = None,
        token: str | None = None,
        slim: bool = False,
        filter: str | None = None,
    ) -> Listing:
        """The catalog entries (nodes) of one service name (`slim=True`: only the fields the views
        read; `filter`: go-bexpr over the entries, the index stays the name's)."""
        self._check_service_name(name)
        index, wait = check_blocking(index, wait)
        ctx = self._ctx(f"read the catalog entries of service {name}", token, missing=f"service {name}")
        if slim or filter:
            element = slim_catalog_entry if slim else None
            return self._slim_list(ctx, f"/v1/catalog/service/{name}", index, wait, token, element, filter)
        result = self._run(
            ctx,
            self._c.catalog.service,
            name,
            index=index,
            wait=wait_string(wait) if wait else None,
            token=self._token(token),
        )
        return self._listing(ctx, result, list)

    def health_checks(
        self,
        name: str,
        *,
        token: str | None = None,
        slim: bool = False,
        filter: str | None = None,
    ) -> Listing:
        """The health checks of one service name's instances (/v1/health/checks/:name; the index is
        the checks table's; `filter`: go-bexpr over the checks)."""
        self._check_service_name(name)
        ctx = self._ctx(f"read the health checks of service {name}", token)
        element = slim_check if slim else None
        return self._slim_list(ctx, f"/v1/health/checks/{name}", None, None, token, element, filter)

    @staticmethod
    def _check_service_name(name: str) -> None:
        paths.check_name(name, "service name", "Consul")
        if "/" in name or "\\" in name:
            raise InvalidInput("Consul", f"{name!r} is not a valid Consul service name (it contains a slash)")

    def _get_json(self, path: str, index: int | None, wait: float | None, token: str | None, filter: str | None):
        """(index header, JSON body) of a GET with our own parameters (py-consul's helpers take no filter)."""
        params: list = []
        if index:
            params = [("index", index)] + ([("wait", wait_string(wait))] if wait else [])
        if filter:
            params.append(("filter", filter))
        resp = self._c.http._send("GET", path, params, self._c.prepare_headers(self._token(token)))
        return resp.headers.get("X-Consul-Index"), resp.json()

    def health_state(
        self,
        state: str = "any",
        *,
        index: int | None = None,
        wait: float | None = None,
        token: str | None = None,
        slim: bool = False,
    ) -> Listing:
        """All health checks in a state ("any" = every check; `slim=True`: only the fields the views read)."""
        if state not in _STATES:
            raise InvalidInput("Consul", f"Health state must be one of {', '.join(_STATES)}, not {state!r}")
        index, wait = check_blocking(index, wait)
        ctx = self._ctx(f"read the health checks in state {state}", token)
        if slim:
            return self._slim_list(ctx, f"/v1/health/state/{state}", index, wait, token, slim_check)
        result = self._run(
            ctx,
            self._c.health.state,
            state,
            index=index,
            wait=wait_string(wait) if wait else None,
            token=self._token(token),
        )
        return self._listing(ctx, result, list)

    def status_leader(self, *, token: str | None = None) -> str:
        """The Raft leader address ("" when there is none). Sends the token, unlike py-consul's status.leader()."""
        ctx = self._ctx("find the Consul leader", token)
        headers = self._c.prepare_headers(self._token(token))
        data = self._run(ctx, self._c.http.get, CB.json(), "/v1/status/leader", headers=headers)
        return data if isinstance(data, str) else ""
