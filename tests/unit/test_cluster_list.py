"""Several clusters from dashboard.toml's [[clusters]]: each key checked with an error naming it,
tokens read from the variables the file names (never from the file), and without a list the
single cluster of HashiCorp's variables as before."""

from __future__ import annotations

import tomllib

import pytest

import config
from connectors.settings import SettingsError, load, load_all

TWO = """
[[clusters]]
name = "ca-east"
region = "ca-east"
nomad_address = "https://nomad.east.example.com:4646"
nomad_token_env = "NOMAD_TOKEN_CA_EAST"
consul_address = "consul.east.example.com:8501"
consul_token_env = "CONSUL_TOKEN_CA_EAST"
tls = { ca_cert = "/etc/dashboard/east-ca.pem" }

[[clusters]]
name = "ca-west"
region = "ca-west"
nomad_address = "http://127.0.0.1:4656"
consul_tls = { skip_verify = true }
consul_address = "https://127.0.0.1:8510"
"""
ENV = {"NOMAD_TOKEN_CA_EAST": "east-nomad-secret", "CONSUL_TOKEN_CA_EAST": "east-consul-secret"}


def clusters(text: str = TWO):
    return config.parse(tomllib.loads(text)).clusters


def test_a_list_of_two_clusters_loads_in_order_with_tokens_from_the_named_variables():
    east, west = load_all(clusters(), ENV)
    assert (east.name, east.region, west.name, west.region) == ("ca-east", "ca-east", "ca-west", "ca-west")
    assert east.nomad.addr == "https://nomad.east.example.com:4646"
    assert east.nomad.token == "east-nomad-secret" and east.consul.token == "east-consul-secret"
    assert east.consul.addr == "http://consul.east.example.com:8501"
    # TLS: verified against the given CA; Consul takes the same unless it has its own table.
    assert east.nomad.verify == "/etc/dashboard/east-ca.pem" and east.consul.verify == "/etc/dashboard/east-ca.pem"
    assert west.nomad.verify is True and west.consul.verify is False
    assert west.nomad.token is None and west.consul.token is None
    # Tokens never show in what gets logged.
    assert "secret" not in repr(east) and "secret" not in str(east.nomad)


def test_without_a_list_the_hashicorp_variables_are_the_single_cluster():
    env = {"NOMAD_ADDR": "http://10.0.0.1:4646", "NOMAD_TOKEN": "t", "NOMAD_REGION": "ca", "CONSUL_HTTP_ADDR": "c:8500"}
    assert load_all(clusters("[clients]\nidentify_by = 'namespace'\n"), env) == [load(env)]
    assert load_all(None, env)[0].region == "ca"
    assert config.load().clusters == ()  # the shipped file configures none: make run shows the sandbox


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('nomad_address = "http://a:4646"', "clusters[1]: name is missing"),
        ('name = "x"', "clusters[1] (x): nomad_address is missing"),
        ('name = "x"\nnomad_address = "ftp://a"', "clusters[1] (x): nomad_address='ftp://a' is not an address"),
        (
            'name = "x"\nnomad_address = "http://a:99999"',
            "clusters[1] (x): nomad_address='http://a:99999' has an invalid port",
        ),
        (
            'name = "x"\nnomad_address = "http://a"\nnomad_tokn_env = "T"',
            "clusters[1] (x): unknown key(s) ['nomad_tokn_env']",
        ),
        (
            'name = "x"\nnomad_address = "http://a"\ntls = { skip_verify = "no" }',
            "clusters[1] (x).tls.skip_verify must be true or false",
        ),
        ('name = "x"\nnomad_address = "http://a"\ntls = { client_cert = "c.pem" }', "client_key is missing"),
        (
            'name = "x"\nnomad_address = "http://a"\nconsul_token_env = "T"',
            "consul_token_env is set but consul_address is missing",
        ),
        ('name = "two words"\nnomad_address = "http://a"', "may hold only letters"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_key(entry, message):
    with pytest.raises(SettingsError) as err:
        load_all(clusters("[[clusters]]\n" + entry + "\n"), {})
    assert message in str(err.value)


def test_two_clusters_with_one_name_are_refused():
    text = (
        '[[clusters]]\nname = "a"\nnomad_address = "http://x"\n[[clusters]]\nname = "a"\nnomad_address = "http://y"\n'
    )
    with pytest.raises(SettingsError, match=r"clusters\[2\] \(a\): another cluster already has the name 'a'"):
        load_all(clusters(text), {})


def test_a_token_pasted_where_a_variable_name_belongs_is_refused_without_echoing_it():
    text = '[[clusters]]\nname = "a"\nnomad_address = "http://x"\nnomad_token_env = "3f2a-9b1c-secret-token"\n'
    with pytest.raises(SettingsError) as err:
        load_all(clusters(text), {})
    assert "NAME of an environment variable" in str(err.value)
    assert "3f2a" not in str(err.value)


def test_a_named_token_variable_that_is_not_set_is_an_error_naming_it():
    with pytest.raises(
        SettingsError,
        match=r"clusters\[1\] \(ca-east\): nomad_token_env names the variable NOMAD_TOKEN_CA_EAST, which is not set",
    ):
        load_all(clusters(), {})


def test_clusters_that_are_not_tables_are_a_config_error():
    with pytest.raises(config.ConfigError, match="clusters must be a list"):
        clusters('clusters = "ca-east"\n')
