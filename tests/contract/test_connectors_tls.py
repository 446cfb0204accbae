"""TLS: verified by default, a CA file makes a private CA work, skipping is explicit.

A real local HTTPS server with a self-signed CA made here with `cryptography`.
"""

import datetime
import ipaddress
import json
import ssl
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors import ConsulConnector, NomadConnector, Unavailable
from connectors.settings import load


def _cert_pair(tmp_path):
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dashboard test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server-key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).seen.append((self.path, dict(self.headers)))
        if self.path.startswith("/v1/catalog/services"):
            body, hdr = {"web": []}, ("X-Consul-Index", "12")
        else:
            body, hdr = [{"ID": "acme-web"}], ("X-Nomad-Index", "34")
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header(*hdr)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls")
    ca, cert, key = _cert_pair(tmp)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", str(ca)
    server.shutdown()
    server.server_close()


def test_nomad_unverifiable_certificate_is_a_clear_unavailable(https_server):
    addr, _ = https_server
    nomad = NomadConnector(load({"NOMAD_ADDR": addr, "NOMAD_TOKEN": "secret-n"}).nomad)
    with pytest.raises(Unavailable) as info:
        nomad.list_jobs()
    msg = str(info.value)
    assert info.value.source == "Nomad"
    assert f"Nomad at {addr} cannot be reached securely" in msg
    assert "certificate could not be verified" in msg and "NOMAD_CACERT" in msg
    assert "secret-n" not in msg


def test_nomad_with_cacert_works(https_server):
    addr, ca = https_server
    nomad = NomadConnector(load({"NOMAD_ADDR": addr, "NOMAD_CACERT": ca}).nomad)
    listing = nomad.list_jobs()
    assert listing.data == [{"ID": "acme-web"}] and listing.index == 34


def test_nomad_skip_verify_only_when_asked(https_server):
    addr, _ = https_server
    nomad = NomadConnector(load({"NOMAD_ADDR": addr, "NOMAD_SKIP_VERIFY": "true"}).nomad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert nomad.list_jobs().index == 34


def test_consul_unverifiable_certificate_is_a_clear_unavailable(https_server):
    addr, _ = https_server
    consul = ConsulConnector(load({"CONSUL_HTTP_ADDR": addr}).consul)
    with pytest.raises(Unavailable) as info:
        consul.catalog_services()
    assert info.value.source == "Consul"
    assert "certificate could not be verified" in str(info.value) and "CONSUL_CACERT" in str(info.value)


def test_consul_with_cacert_works(https_server):
    addr, ca = https_server
    consul = ConsulConnector(load({"CONSUL_HTTP_ADDR": addr, "CONSUL_CACERT": ca}).consul)
    listing = consul.catalog_services()
    assert listing.data == {"web": []} and listing.index == 12


def test_consul_ssl_verify_false_only_when_asked(https_server):
    addr, _ = https_server
    consul = ConsulConnector(load({"CONSUL_HTTP_ADDR": addr, "CONSUL_HTTP_SSL_VERIFY": "false"}).consul)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert consul.catalog_services().index == 12


def test_consul_explicit_token_beats_process_env(https_server, monkeypatch):
    """py-consul lets CONSUL_HTTP_TOKEN override an explicit token; ours does not."""
    addr, ca = https_server
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "from-process-env")
    consul = ConsulConnector(
        load({"CONSUL_HTTP_ADDR": addr, "CONSUL_CACERT": ca, "CONSUL_HTTP_TOKEN": "configured"}).consul
    )
    _Handler.seen.clear()
    consul.catalog_services()
    consul.catalog_services(token="per-person")
    consul.status_leader(token="per-person")
    tokens = [h.get("X-Consul-Token") for _, h in _Handler.seen]
    assert tokens == ["configured", "per-person", "per-person"]
