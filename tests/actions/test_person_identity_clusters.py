"""Per-person Nomad identity with several clusters (issue 12): each cluster has its own ACL system and
JWT auth method (clusters are not federated), so a person's Nomad token is obtained from, and kept
for, the cluster the action goes to. Real HTTP to two sandbox clusters with ACLs on; the demo
identity provider signs the ID token both trust."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from action_helpers import make_person

from actions import ALLOC_RESTART, Environment, Fleet, Target, perform
from auth import nomad_identity
from config import ActionSettings
from connectors import NomadConnector
from connectors.errors import Forbidden
from connectors.settings import load_all
from sandbox import MultiSandbox
from sandbox.acl import AUTH_METHOD
from sandbox.oidc_provider import DemoIdentityProvider
from store.audit import AuditStore


@pytest.fixture(scope="module")
def clusters():
    idp = DemoIdentityProvider(host="127.0.0.1", port=0, redirect_uris=["http://localhost/oauth2callback"])
    idp.start()
    group = MultiSandbox(clusters=2, clients=8, frozen=True, acl=True, jwt_jwks=idp.jwks).start()
    # The dashboard's own tokens can only read: a restart needs the person's own token.
    env = {f"T{k}": sb.tokens["read"] for k, sb in enumerate(group)}
    listed = load_all(
        [{"name": sb.name, "nomad_address": sb.nomad_addr, "nomad_token_env": f"T{k}"} for k, sb in enumerate(group)],
        env,
    )
    yield group, idp, {s.name: NomadConnector(s.nomad) for s in listed}
    group.stop()
    idp.stop()


def test_a_persons_token_comes_from_the_target_cluster_and_is_kept_per_cluster(clusters, tmp_path):
    _group, idp, nomad = clusters
    state: dict = {}
    id_token = idp.id_token_for("support")
    now = datetime.now(UTC)
    sessions = {
        name: nomad_identity.current(
            nomad_identity.cluster_state(state, name), id_token, lambda jwt, c=conn: c.login_jwt(AUTH_METHOD, jwt), now
        )
        for name, conn in nomad.items()
    }
    assert sessions["ca-east"].secret_id != sessions["ca-west"].secret_id  # one per cluster, both kept
    again = nomad_identity.current(
        nomad_identity.cluster_state(state, "ca-west"), id_token, lambda jwt: pytest.fail("no second login"), now
    )
    assert again == sessions["ca-west"]

    west = nomad["ca-west"]
    running = [
        a for a in west.list_allocations().data if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    ]
    pairs = Counter((a["Namespace"], a["JobID"], a["TaskGroup"]) for a in running)
    alloc = next(a for a in running if pairs[(a["Namespace"], a["JobID"], a["TaskGroup"])] >= 2)
    # ca-east's token means nothing to ca-west's ACL system.
    with pytest.raises(Forbidden):
        west.restart_allocation(alloc["ID"], namespace=alloc["Namespace"], token=sessions["ca-east"].secret_id)

    audit = AuditStore(f"sqlite:///{tmp_path / 'dashboard.db'}")
    fleet = Fleet(
        {
            name: Environment(audit=audit, nomad=conn, cluster=name, settings=ActionSettings(rate_limit=100))
            for name, conn in nomad.items()
        }
    )
    target = Target(
        cluster="ca-west",
        namespace=alloc["Namespace"],
        job=alloc["JobID"],
        task_group=alloc["TaskGroup"],
        allocation=alloc["ID"],
        observed_at=datetime.now(UTC),
    )
    person = make_person("support")
    # With ca-east's token the restart in ca-west is refused; with ca-west's own it goes through.
    refused = perform(person, ALLOC_RESTART, target, "stuck", token=sessions["ca-east"].secret_id, env=fleet)
    assert refused.status == "denied" and refused.guard == "live_target", refused.message
    done = perform(person, ALLOC_RESTART, target, "stuck", token=sessions["ca-west"].secret_id, env=fleet)
    assert done.status == "succeeded", done.message
    assert [r["cluster"] for r in audit.events(request_id=done.request_id)] == ["ca-west", "ca-west"]
