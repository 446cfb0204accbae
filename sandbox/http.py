"""Loopback HTTP server shared by the Nomad and Consul emulators.

Routing by path template, blocking queries on per-table indexes, a response
cache keyed by state index, fault injection, and request statistics live here
so that ``nomad_api`` and ``consul_api`` contain only API semantics.
"""

from __future__ import annotations

import json
import random
import re
import socket
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .faults import Faults
from .world import World


class HTTPError(Exception):
    def __init__(self, status: int, message: str = ""):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    stream: Iterable[bytes] | None = None  # streamed until exhausted, then the connection closes
    index: int | None = None  # overrides the route's table index in the index header


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_reply(obj, status: int = 200) -> Reply:
    return Reply(dumps(obj), status)


def text_error(status: int, message: str) -> Reply:
    return Reply(message.encode(), status, "text/plain; charset=utf-8")


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    multi: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    args: dict[str, str]  # path template captures
    template: str = ""
    auth: object = None  # set by the server's authenticate hook

    def flag(self, name: str, default: bool = False) -> bool:
        if name not in self.params:
            return default
        return self.params[name].lower() in ("", "1", "true", "yes")

    def json_body(self):
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HTTPError(400, f"Request body could not be decoded: {exc}") from exc


@dataclass
class Route:
    methods: tuple[str, ...]
    template: str
    handler: Callable[[Request], Reply | object]
    tables: tuple[str, ...] = ()  # state tables the response depends on (index header, blocking)
    blocking: bool = False
    cache: bool = False
    capability: str | None = None  # ACL capability needed
    regex: re.Pattern = None
    # The index of the one object a route reads (its ModifyIndex), None when it does not exist:
    # then the route's table index stands in, as Nomad's single-object reads do.
    index_of: Callable[[Request], int | None] | None = None

    def __post_init__(self):
        # ":id" matches one segment, "*key" the rest of the path (job IDs and KV keys may contain "/").
        pattern = re.sub(r":(\w+)", r"(?P<\1>[^/]+)", self.template)
        pattern = re.sub(r"\*(\w+)", r"(?P<\1>.*)", pattern)
        self.regex = re.compile(f"^{pattern}$")


def parse_wait(value: str | None, default: float = 300.0, maximum: float = 600.0) -> float:
    """Go-style durations as blocking queries take them ("30s", "5m", "1m30s", "250ms")."""
    if not value:
        return default
    total = 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", value)
    if not parts or "".join(n + (u or "") for n, u in parts) != value:
        raise HTTPError(400, f"Invalid wait time: {value!r}")
    for number, unit in parts:
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "": 1}[unit or ""]
    return min(total, maximum)


class ResponseCache:
    """Serialized bodies keyed by request and state index, bounded by total bytes."""

    def __init__(self, budget: int = 256 * 1024 * 1024):
        self.budget, self.size = budget, 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key, reply: Reply):
        n = len(reply.body)
        if n > self.budget // 2:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = reply
            self.size += n
            while self.size > self.budget and self._items:
                _, old = self._items.popitem(last=False)
                self.size -= len(old.body)


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self.bytes_sent = 0  # response bodies, streams included (GET /_sandbox/bytes; the churn benchmark)

    def sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def count(self, key: str):
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self) -> dict:
        with self._lock:
            counts = dict(sorted(self._counts.items()))
        counts["total"] = sum(counts.values())
        return counts

    def reset(self):
        with self._lock:
            self._counts.clear()
            self.bytes_sent = 0


class ApiServer:
    """One emulated HTTP API (Nomad or Consul) on 127.0.0.1."""

    def __init__(
        self,
        name: str,
        world: World,
        routes: list[Route],
        faults: Faults,
        *,
        authenticate: Callable[[Request, Route], None],
        decorate: Callable[[Reply, int | None], None],
        port: int = 0,
    ):
        self.name, self.world, self.routes, self.faults = name, world, routes, faults
        self.authenticate, self.decorate = authenticate, decorate
        self.stats = Stats()
        self.cache = ResponseCache()
        self.stopping = False
        self._jitter = random.Random(f"jitter-{name}")
        server = self

        class Handler(_Handler):
            api = server

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread: threading.Thread | None = None

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"sandbox-{self.name}", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        with self.world.changed:
            self.world.changed.notify_all()  # release blocked queries
        self.httpd.shutdown()
        self.httpd.server_close()

    def match(self, method: str, path: str) -> tuple[Route | None, dict, bool]:
        path_matched = False
        for route in self.routes:
            m = route.regex.match(path)
            if m:
                path_matched = True
                if method in route.methods:
                    return route, {k: unquote(v) for k, v in m.groupdict().items()}, True
        return None, {}, path_matched

    def table_index(self, tables: tuple[str, ...]) -> int:
        return max((self.world.tables[t] for t in tables), default=self.world.index)

    def route_index(self, req: Request, route: Route) -> int:
        """Caller holds the world lock."""
        if route.index_of is not None:
            own = route.index_of(req)
            if own is not None:
                return own
        return self.table_index(route.tables)

    def block(self, req: Request, route: Route) -> None:
        """Hold the request while the route's tables are at or below the client's index."""
        try:
            min_index = int(req.params.get("index", "0") or 0)
        except ValueError as exc:
            raise HTTPError(400, f"Invalid index: {req.params.get('index')!r}") from exc
        if min_index < 1:
            return
        wait = parse_wait(req.params.get("wait"))
        wait += self._jitter.random() * wait / 16  # both servers add up to wait/16 of jitter
        deadline = time.monotonic() + wait
        with self.world.changed:
            while self.route_index(req, route) <= min_index and not self.stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.world.changed.wait(remaining)

    def handle(self, req: Request, route: Route) -> Reply:
        self.authenticate(req, route)
        if route.blocking:
            self.block(req, route)
        key = None
        with self.world.lock:
            index = self.route_index(req, route) if route.tables else None
            if route.cache:
                params = tuple(sorted((k, v) for k, v in req.multi if k not in ("index", "wait", "stale")))
                scope = req.auth if isinstance(req.auth, str) else None  # Consul's ACL-filtered views
                key = (req.method, req.path, params, index, scope)
                cached = self.cache.get(key)
                if cached is not None:
                    return cached
            result = route.handler(req)
        reply = result if isinstance(result, Reply) else json_reply(result)
        if reply.index is None:
            reply.index = index
        if key is not None and reply.status == 200 and reply.stream is None:
            self.cache.put(key, reply)
        return reply


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    # TCP_NODELAY, as Go's net package sets on every connection Nomad and Consul accept: without it a
    # kept-alive client waits about 40 ms for each response's body (Nagle against the delayed ACK).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # quiet: tests and the CLI would drown in access logs
        pass

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def _serve(self):
        api = self.api
        if api.stopping:
            # A stopped server answers nothing, also on a connection kept alive from before.
            return self._reset()
        parts = urlsplit(self.path)
        path = parts.path
        multi = parse_qsl(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if path.startswith("/_sandbox/"):
            return self._control(path, body)
        route, args, path_known = api.match(self.command, path)
        template = route.template if route else path
        api.stats.count(f"{self.command} {template}")
        faults = api.faults.matching(api.name, route.template if route else None, path)
        if any(f.down for f in faults):
            return self._reset()
        delay = max((f.latency for f in faults), default=0.0)
        if delay:
            time.sleep(delay)
        for f in faults:
            if f.status:
                return self._send(text_error(f.status, f.body or f"sandbox fault: {f.status}"))
        if route is None:
            status = 405 if path_known else 404
            return self._send(text_error(status, "Invalid method" if path_known else "Not Found"))
        req = Request(self.command, path, dict(multi), multi, headers, body, args, route.template)
        try:
            reply = api.handle(req, route)
        except HTTPError as exc:
            reply = text_error(exc.status, exc.message)
        except Exception as exc:  # an emulator bug must still answer like a server would
            reply = text_error(500, f"sandbox internal error: {exc!r}")
        if any(f.malformed for f in faults) and reply.status == 200:
            reply = Reply(
                reply.body[: max(1, len(reply.body) // 2)] or b"{",
                200,
                reply.content_type,
                dict(reply.headers),
                None,
                reply.index,
            )
        self._send(reply)

    def _send(self, reply: Reply):
        self.api.decorate(reply, reply.index)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for k, v in reply.headers.items():
            self.send_header(k, str(v))
        if reply.stream is not None:
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for chunk in reply.stream:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    self.api.stats.sent(len(chunk))
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(reply.body)
                self.api.stats.sent(len(reply.body))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def _reset(self):
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()

    def _control(self, path: str, body: bytes):
        api = self.api
        try:
            if path == "/_sandbox/stats" and self.command == "GET":
                return self._send(json_reply(api.stats.snapshot()))
            if path == "/_sandbox/bytes" and self.command == "GET":
                return self._send(json_reply({"bytes": api.stats.bytes_sent}))
            if path == "/_sandbox/churn" and self.command == "GET":
                since = dict(parse_qsl(urlsplit(self.path).query)).get("since")
                return self._send(json_reply(api.world.churn_state(float(since) if since else None)))
            if path == "/_sandbox/stats/reset" and self.command == "POST":
                api.stats.reset()
                return self._send(json_reply({}))
            if path == "/_sandbox/faults":
                if self.command == "GET":
                    return self._send(json_reply(api.faults.as_json(api.name)))
                if self.command == "DELETE":
                    api.faults.clear(api.name)
                    return self._send(json_reply({}))
                if self.command == "POST":
                    spec = json.loads(body or b"{}")
                    spec.pop("server", None)
                    fault = api.faults.inject(api.name, **spec)
                    return self._send(json_reply(fault.__dict__))
        except (TypeError, ValueError) as exc:
            return self._send(text_error(400, str(exc)))
        self._send(text_error(404, "Not Found"))
