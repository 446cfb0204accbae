"""Many sessions, one shaping (issue 13, item 4): what people notice when pages share their work.

Each AppTest below is its own Streamlit session in this one process, so they share ui.shared's
process-wide cache exactly as browser sessions of one server do. The cluster is a sandbox of this
module's own (it is changed here), over real HTTP.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from conftest import APP, AUTH_SECRETS, make_user_claims
from streamlit.testing.v1 import AppTest

from sandbox import Sandbox


@pytest.fixture(scope="module")
def own_cluster():
    keys = ("NOMAD_ADDR", "CONSUL_HTTP_ADDR", "DASHBOARD_CONFIG", "NOMAD_TOKEN")
    saved = {k: os.environ.get(k) for k in keys}
    with Sandbox(clients=8, seed=11, frozen=True) as sb:
        os.environ.update({"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr})
        os.environ.pop("DASHBOARD_CONFIG", None)
        os.environ.pop("NOMAD_TOKEN", None)
        try:
            yield sb
        finally:
            import streamlit as st

            from snapshot.refresher import _reset_registry
            from ui import shared

            st.cache_resource.clear()
            shared.CACHE.clear()
            _reset_registry()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.fixture(scope="module")
def refresher(own_cluster):
    """The process-wide refresher the pages read (the same one runtime.refresher() hands out)."""
    import snapshot
    from connectors import settings as cluster_settings

    ref = snapshot.get_refresher(cluster_settings.load(), "namespace")
    ref.wait_for(lambda s: s.has_data and all(x.has_data for x in s.sources.values()), timeout=20)
    return ref


def session(role: str, page: str | None = None, **params) -> AppTest:
    """One person's session: app.py as ``role``, then ``page`` with ``params``."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = make_user_claims(role)
    at.secrets = {"auth": dict(AUTH_SECRETS["auth"])}
    at.run()
    if page:
        at.switch_page(page)
    at.query_params.clear()
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def freshness_line(at: AppTest) -> str:
    return next(c.value for c in at.caption if "Data as of" in c.value)


def health_rows(at: AppTest):
    df = at.dataframe[0].value
    return df.assign(client=[re.sub(r"^client\?client=", "", c) for c in df["client"]]).set_index("client")


def same_minute_ahead(seconds: float = 20.0) -> int:
    """Wait, if need be, until ``seconds`` are left in this minute: ages inside tables move once a
    minute, so a minute turning during a test would rightly shape its tables again."""
    from ui import shared

    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left + 0.1)
    return shared.minute()


def test_an_unchanged_snapshot_still_shows_current_ages_and_the_same_table(refresher):
    from ui import shared

    started = same_minute_ahead()
    at = session("support")
    built = refresher.current().built_at
    first_line, first_table = freshness_line(at), at.dataframe[0].value
    builds = shared.CACHE.builds
    time.sleep(1.1)  # the freshness line names the second the data was last confirmed
    at.run()
    assert refresher.current().built_at == built, "the frozen sandbox did not change: same snapshot"
    assert freshness_line(at) != first_line  # "Data as of 12:03:05" moved on
    assert at.dataframe[0].value.equals(first_table)
    assert shared.minute() == started, "the test took more than 20 s: the minute turned"
    assert shared.CACHE.builds == builds  # nothing was shaped again for an unchanged snapshot


def test_a_change_reaches_two_sessions_of_different_roles(own_cluster, refresher):
    support, viewer = session("support"), session("viewer")
    assert health_rows(support)["restarts_24h"].equals(health_rows(viewer)["restarts_24h"])
    before = refresher.current()
    own_cluster.clock.advance(600)  # ten simulated minutes: the seeded crash loop crashes again
    after = refresher.wait_for(
        lambda s: (
            s.built_at != before.built_at
            and not s.frames.clients.set_index("client")["restarts_24h"].equals(
                before.frames.clients.set_index("client")["restarts_24h"]
            )
        ),
        timeout=20,
    )
    expected = after.frames.clients.set_index("client")["restarts_24h"]
    changed = [c for c in expected.index if expected[c] != before.frames.clients.set_index("client")["restarts_24h"][c]]
    assert changed
    support.run()
    viewer.run()
    for at in (support, viewer):
        shown = health_rows(at)["restarts_24h"]
        assert all(int(shown[c]) == int(expected[c]) for c in changed)


def test_shared_tables_never_give_a_role_links_it_may_not_open(refresher):
    """Support's client page (allocation IDs link to the allocation page) is shaped first; a manager,
    whose role has no allocation page, then opens the same client from the same shared tables."""
    client = refresher.current().frames.clients["client"].iloc[0]
    support = session("support", "app_pages/client.py", client=client)
    manager = session("manager", "app_pages/client.py", client=client)
    support_ids = support.dataframe[1].value["allocation"].tolist()
    manager_ids = manager.dataframe[1].value["allocation"].tolist()
    assert support_ids and all(i.startswith("allocation?alloc=") for i in support_ids)
    assert manager_ids == [re.sub(r"^allocation\?alloc=", "", i)[:8] for i in support_ids]
    assert "Your role cannot open allocation pages" in "\n".join(c.value for c in manager.caption)
    # And the other way round: the manager's plain copy is never what support gets.
    again = session("support", "app_pages/client.py", client=client)
    assert again.dataframe[1].value["allocation"].tolist() == support_ids
