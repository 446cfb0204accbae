"""CONSUL_HTTP_ADDR with a path (Consul behind a reverse proxy) prefixes every request."""

import io

import requests
import urllib3

from connectors import ConsulConnector
from connectors.settings import load


class RecordingAdapter(requests.adapters.BaseAdapter):
    def __init__(self):
        super().__init__()
        self.urls = []

    def send(self, request, **kwargs):
        self.urls.append(request.url)
        resp = requests.Response()
        resp.status_code = 200
        resp.headers["X-Consul-Index"] = "7"
        resp.headers["Content-Type"] = "application/json"
        body = (
            '"10.0.0.1:8300"'
            if request.path_url.startswith("/proxy/consul/v1/status")
            else ("{}" if "/catalog/services" in request.path_url else "[]")
        )
        resp.raw = urllib3.response.HTTPResponse(body=io.BytesIO(body.encode()), preload_content=False, status=200)
        resp.url = request.url
        resp.request = request
        return resp

    def close(self):
        pass


def _connector(addr):
    settings = load({"CONSUL_HTTP_ADDR": addr}).consul
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return ConsulConnector(settings, session=session), adapter


def test_a_path_prefix_in_the_address_is_kept_for_every_request():
    c, adapter = _connector("https://gateway.example/proxy/consul/")
    assert c.catalog_services().index == 7
    c.health_state("any", slim=True)
    c.health_state("critical")
    assert c.status_leader() == "10.0.0.1:8300"
    paths = [requests.utils.urlparse(u).path for u in adapter.urls]
    assert paths == [
        "/proxy/consul/v1/catalog/services",
        "/proxy/consul/v1/health/state/any",
        "/proxy/consul/v1/health/state/critical",
        "/proxy/consul/v1/status/leader",
    ]
    assert all(u.startswith("https://gateway.example:443/") for u in adapter.urls)


def test_without_a_path_requests_go_to_the_root():
    c, adapter = _connector("http://127.0.0.1:8500")
    c.catalog_services()
    assert adapter.urls == ["http://127.0.0.1:8500/v1/catalog/services"]
