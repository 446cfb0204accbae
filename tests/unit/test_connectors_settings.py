"""Settings from HashiCorp's variables: TLS verified by default, tokens never shown."""

import pytest

from connectors.settings import SettingsError, load


def test_defaults_verify_tls_and_have_no_consul():
    s = load({})
    assert s.name == "default"
    assert s.nomad.addr == "http://127.0.0.1:4646"
    assert s.nomad.verify is True
    assert s.nomad.cert is None
    assert s.consul is None


def test_all_nomad_variables_are_honoured():
    s = load(
        {
            "NOMAD_ADDR": "https://nomad.example:4646/",
            "NOMAD_TOKEN": "n-secret",
            "NOMAD_REGION": "ca",
            "NOMAD_NAMESPACE": "acme",
            "NOMAD_CACERT": "/etc/ca.pem",
            "NOMAD_CLIENT_CERT": "/etc/c.pem",
            "NOMAD_CLIENT_KEY": "/etc/k.pem",
            "DASHBOARD_CLUSTER_NAME": "prod",
        }
    )
    assert s.name == "prod"
    n = s.nomad
    assert n.addr == "https://nomad.example:4646"
    assert (n.token, n.region, n.namespace) == ("n-secret", "ca", "acme")
    assert n.verify == "/etc/ca.pem"  # the CA path replaces the system store
    assert n.cert == ("/etc/c.pem", "/etc/k.pem")


@pytest.mark.parametrize("value,verify", [("true", False), ("1", False), ("false", True), ("", True)])
def test_nomad_skip_verify(value, verify):
    s = load({"NOMAD_SKIP_VERIFY": value, "NOMAD_CACERT": "/ca.pem"})
    assert s.nomad.verify == (False if not verify else "/ca.pem")


def test_all_consul_variables_are_honoured():
    s = load(
        {
            "CONSUL_HTTP_ADDR": "consul.example:8501",
            "CONSUL_HTTP_SSL": "true",
            "CONSUL_HTTP_TOKEN": "c-secret",
            "CONSUL_CACERT": "/ca.pem",
            "CONSUL_CLIENT_CERT": "/c.pem",
            "CONSUL_CLIENT_KEY": "/k.pem",
        }
    )
    c = s.consul
    assert c.addr == "https://consul.example:8501"
    assert c.token == "c-secret"
    assert c.verify == "/ca.pem"
    assert c.cert == ("/c.pem", "/k.pem")


@pytest.mark.parametrize("value,verify", [("false", False), ("0", False), ("true", True), (None, True)])
def test_consul_ssl_verify(value, verify):
    env = {"CONSUL_HTTP_ADDR": "https://127.0.0.1:8501"}
    if value is not None:
        env["CONSUL_HTTP_SSL_VERIFY"] = value
    assert load(env).consul.verify is verify


def test_tokens_never_in_repr_or_str():
    s = load({"NOMAD_TOKEN": "n-secret-123", "CONSUL_HTTP_ADDR": "127.0.0.1:8500", "CONSUL_HTTP_TOKEN": "c-secret-456"})
    for text in (repr(s), str(s), repr(s.nomad), str(s.nomad), repr(s.consul), f"{s}"):
        assert "n-secret-123" not in text and "c-secret-456" not in text
    assert "<redacted>" in repr(s.nomad)


def test_half_a_cert_pair_is_an_error_naming_the_variable():
    with pytest.raises(SettingsError, match="NOMAD_CLIENT_KEY"):
        load({"NOMAD_CLIENT_CERT": "/c.pem"})


def test_bad_values_are_clear_errors():
    with pytest.raises(SettingsError, match="NOMAD_SKIP_VERIFY"):
        load({"NOMAD_SKIP_VERIFY": "maybe"})
    with pytest.raises(SettingsError, match="NOMAD_ADDR"):
        load({"NOMAD_ADDR": "ftp://x:1"})
    with pytest.raises(SettingsError, match="CONSUL_HTTP_ADDR"):
        load({"CONSUL_HTTP_ADDR": "http://host:notaport"})


def test_settings_are_hashable_keys():
    assert load({"NOMAD_TOKEN": "a"}) == load({"NOMAD_TOKEN": "a"})
    assert len({load({"NOMAD_TOKEN": "a"}), load({"NOMAD_TOKEN": "a"}), load({"NOMAD_TOKEN": "b"})}) == 2


@pytest.mark.parametrize(
    "var, value",
    [
        ("NOMAD_ADDR", "https://admin:s3cret-pw@nomad.example:4646"),
        ("NOMAD_ADDR", "http://admin@nomad.example:4646"),
        ("CONSUL_HTTP_ADDR", "https://admin:s3cret-pw@consul.example:8501"),
        ("CONSUL_HTTP_ADDR", "admin:s3cret-pw@consul.example:8500"),
    ],
)
def test_credentials_in_an_address_are_rejected_without_echoing_them(var, value):
    with pytest.raises(SettingsError, match=var) as info:
        load({var: value})
    message = str(info.value)
    assert "user name or password" in message
    assert "s3cret-pw" not in message and "admin" not in message
    assert ("CONSUL_HTTP_TOKEN" if var.startswith("CONSUL") else "NOMAD_TOKEN") in message
