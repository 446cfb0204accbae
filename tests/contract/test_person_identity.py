"""Per-person Nomad identity: a person's ID token becomes their own Nomad token,
and Nomad enforces that person's permissions (sandbox JWT auth method, demo provider)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import config
from auth import nomad_identity
from auth.principal import principal_from_claims
from connectors import NomadConnector
from connectors import settings as cluster_settings
from connectors.errors import Forbidden
from sandbox import Sandbox
from sandbox.acl import AUTH_METHOD
from sandbox.oidc_provider import DemoIdentityProvider
from snapshot.queries import Queries


@pytest.fixture(scope="module")
def cluster():
    idp = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=["http://localhost/oauth2callback"])
    idp.start()
    sb = Sandbox(clients=4, frozen=True, acl=True, jwt_jwks=idp.jwks).start()
    # The dashboard's own token can only read: anything more must come from the person.
    settings = cluster_settings.load({"NOMAD_ADDR": sb.nomad_addr, "NOMAD_TOKEN": sb.tokens["read"]})
    q = Queries(NomadConnector(settings.nomad), ttl=0)
    yield sb, idp, q
    q.close()
    sb.stop()
    idp.stop()


def _alloc(queries):
    allocs = queries.nomad.list_allocations().data
    return next(a for a in allocs if a["ClientStatus"] == "running")


def _session(idp, queries, user):
    state: dict = {}
    login = lambda jwt: queries.login(AUTH_METHOD, jwt)  # noqa: E731
    return nomad_identity.current(state, idp.id_token_for(user), login, datetime.now(UTC)), state


def test_support_person_restarts_with_their_own_token_where_the_dashboard_token_cannot(cluster):
    _sb, idp, queries = cluster
    alloc = _alloc(queries)
    with pytest.raises(Forbidden, match="dashboard's Nomad token"):
        queries.nomad.restart_allocation(alloc["ID"], namespace=alloc["Namespace"])
    session, _ = _session(idp, queries, "support")
    assert session.expires_at > datetime.now(UTC)
    queries.nomad.restart_allocation(alloc["ID"], namespace=alloc["Namespace"], token=session.secret_id)
    task = next(iter(alloc["TaskStates"]))
    support = principal_from_claims(
        {"sub": "support", "groups": ["dash-support"], "iat": datetime.now(UTC).timestamp()},
        groups_claim="groups",
        group_roles={"dash-support": ["support"]},
        max_session_hours=8,
    )
    logs = queries.log_tail(alloc["ID"], task, principal=support, namespace=alloc["Namespace"], token=session.secret_id)
    assert logs.error is None and logs.text.strip()


def test_manager_token_from_the_same_exchange_is_refused_a_restart(cluster):
    _sb, idp, queries = cluster
    alloc = _alloc(queries)
    session, _ = _session(idp, queries, "manager")
    with pytest.raises(Forbidden, match="Your Nomad token"):
        queries.nomad.restart_allocation(alloc["ID"], namespace=alloc["Namespace"], token=session.secret_id)


def test_the_exchanged_token_is_kept_for_the_session_not_fetched_per_read(cluster):
    sb, idp, queries = cluster
    id_token = idp.id_token_for("support")
    state: dict = {}
    login = lambda jwt: queries.login(AUTH_METHOD, jwt)  # noqa: E731
    sb.reset_stats("nomad")
    first = nomad_identity.current(state, id_token, login, datetime.now(UTC))
    again = nomad_identity.current(state, id_token, login, datetime.now(UTC))
    assert again.secret_id == first.secret_id
    assert sb.stats("nomad").get("POST /v1/acl/login") == 1


def test_config_turns_the_mode_on_by_file_or_environment(tmp_path):
    assert config.load(env={}).nomad_auth_method == ""
    assert config.load(env={"DASHBOARD_NOMAD_AUTH_METHOD": "sso"}).nomad_auth_method == "sso"
