"""Tokens against an ACL-enabled sandbox: precedence, per-request tokens, Forbidden messages."""

import pytest

from connectors import ConsulConnector, Forbidden, NomadConnector
from connectors.settings import load
from sandbox import Sandbox


@pytest.fixture(scope="module")
def acl_fresh():
    """Our own small ACL sandbox: restarting allocations mutates it."""
    with Sandbox(clients=12, seed=7, frozen=True, acl=True) as sb:
        yield sb


def env_for(sb, **extra):
    env = {"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr, "DASHBOARD_HTTP_TIMEOUT": "5"}
    env.update(extra)
    return env


def running_alloc(nomad):
    running = [a for a in nomad.list_allocations().data if a.get("ClientStatus") == "running"]
    assert running, "the seeded sandbox always has running allocations"
    return running[0]


def test_no_token_is_forbidden_and_says_which_variable(acl_sandbox):
    nomad = NomadConnector(load(env_for(acl_sandbox)).nomad)
    with pytest.raises(Forbidden, match=r"The dashboard has no Nomad token .* Set NOMAD_TOKEN"):
        nomad.list_jobs()


def test_read_token_lists_but_cannot_restart_and_the_message_says_so(acl_sandbox):
    read = acl_sandbox.tokens["read"]
    nomad = NomadConnector(load(env_for(acl_sandbox, NOMAD_TOKEN=read)).nomad)
    alloc = running_alloc(nomad)
    with pytest.raises(Forbidden) as info:
        nomad.restart_allocation(alloc["ID"], namespace=alloc["Namespace"])
    msg = str(info.value)
    assert msg.startswith(
        f"The dashboard's Nomad token is not allowed to restart allocations in namespace {alloc['Namespace']}"
    )
    assert "(Nomad said: Permission denied)" in msg
    assert read not in msg and read not in repr(info.value)


def test_per_request_token_wins_over_the_configured_one(acl_fresh):
    read, mgmt = acl_fresh.tokens["read"], acl_fresh.tokens["management"]
    nomad = NomadConnector(load(env_for(acl_fresh, NOMAD_TOKEN=read)).nomad)
    alloc = running_alloc(nomad)
    assert nomad.restart_allocation(alloc["ID"], token=mgmt) == {"Index": 0}  # GenericResponse
    # and a per-person token that may not do it gets a message about *their* token
    with pytest.raises(Forbidden, match=r"^Your Nomad token is not allowed to restart"):
        nomad.restart_allocation(alloc["ID"], token=read, namespace=alloc["Namespace"])


def test_unknown_token_message_has_no_secret(acl_sandbox):
    nomad = NomadConnector(load(env_for(acl_sandbox, NOMAD_TOKEN="not-a-real-secret-4242")).nomad)
    with pytest.raises(Forbidden) as info:
        nomad.list_nodes()
    assert "not-a-real-secret-4242" not in str(info.value) and "Permission denied" in str(info.value)


def test_consul_explicit_token_beats_env(acl_sandbox, monkeypatch):
    good = acl_sandbox.consul_tokens["read"]
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "bogus-from-the-process-env")
    # the configured token (explicit to the connector) is used, not the process env
    consul = ConsulConnector(load(env_for(acl_sandbox, CONSUL_HTTP_TOKEN=good)).consul)
    assert consul.catalog_services().data
    assert consul.status_leader()
    # a per-request token wins over the configured one
    with pytest.raises(Forbidden) as info:
        consul.catalog_services(token="bogus-per-request")
    assert info.value.source == "Consul" and "bogus-per-request" not in str(info.value)
