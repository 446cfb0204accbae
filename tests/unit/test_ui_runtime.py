"""ui.runtime hands out the cluster's one refresher; any change stops the old one for real.

Through the page-facing call (``runtime.refresher()``) against a real sandbox: a config edit, a
blocking wait that goes 2 -> 1 -> 2 (30 -> 10 -> 30 in production; short here so a watcher inside
a blocking query returns quickly), a rotated NOMAD_TOKEN, and a refresher someone stopped. Each
time the old refresher's threads must end and the one handed out must be live and polling.
"""

from __future__ import annotations

import os

import pytest

from sandbox import Sandbox
from snapshot.refresher import _reset_registry
from ui import runtime

CONFIG = """
[clients]
identify_by = "{identify_by}"
[refresh]
page_seconds = 10
blocking_wait_seconds = {wait}
"""
ENV = ("NOMAD_ADDR", "CONSUL_HTTP_ADDR", "NOMAD_TOKEN", "DASHBOARD_CONFIG", "DASHBOARD_HTTP_TIMEOUT")


@pytest.fixture
def cluster(tmp_path):
    saved = {k: os.environ.get(k) for k in ENV}
    cfg = tmp_path / "dashboard.toml"
    with Sandbox(clients=3, seed=7, frozen=True) as sb:
        os.environ.update(
            {"NOMAD_ADDR": sb.nomad_addr, "CONSUL_HTTP_ADDR": sb.consul_addr, "DASHBOARD_CONFIG": str(cfg)}
        )
        os.environ["NOMAD_TOKEN"] = "token-one"

        def configure(identify_by="namespace", wait=2):
            mtime = cfg.stat().st_mtime_ns if cfg.exists() else 0
            cfg.write_text(CONFIG.format(identify_by=identify_by, wait=wait))
            os.utime(cfg, ns=(mtime + 10**9, mtime + 10**9))  # a new mtime even within one clock tick

        configure()
        try:
            yield sb, configure
        finally:
            _reset_registry()
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def polling(ref, sb, timeout=10.0):
    """The refresher is live: it built data from the sandbox (so its threads really ran)."""
    snap = ref.wait_for(lambda s: s.has_data and all(x.has_data for x in s.sources.values()), timeout=timeout)
    assert ref.running and not ref.stopped and snap.frames.clients.shape[0] > 0
    return ref


def really_stopped(old, wait):
    # A watcher inside a blocking query ends when the server answers (wait + wait/16 at most).
    assert old.stopped
    assert old.join(timeout=wait * 17 / 16 + 5), [t.name for t in old._threads if t.is_alive()]
    assert not any(t.is_alive() for t in old._threads)


def test_the_same_settings_give_the_same_live_refresher(cluster):
    sb, _ = cluster
    a = polling(runtime.refresher(), sb)
    assert runtime.refresher() is a and a.running


def test_a_config_edit_stops_the_old_refresher(cluster):
    sb, configure = cluster
    old = polling(runtime.refresher(), sb)
    configure(identify_by="meta:client")
    new = runtime.refresher()
    assert new is not old and new.identity == "meta:client"
    really_stopped(old, 2)
    polling(new, sb)


def test_a_blocking_wait_going_back_and_forth_never_hands_out_the_stopped_first_refresher(cluster):
    sb, configure = cluster
    first = polling(runtime.refresher(), sb)
    configure(wait=1)
    second = runtime.refresher()
    assert second is not first and second.wait == 1
    configure(wait=2)
    third = runtime.refresher()
    assert third is not first and third is not second and third.wait == 2
    really_stopped(first, 2)
    really_stopped(second, 1)
    polling(third, sb)
    assert runtime.refresher() is third


def test_a_rotated_token_gets_its_own_refresher_and_the_old_one_stops(cluster):
    sb, _ = cluster
    old = polling(runtime.refresher(), sb)
    assert old.settings.nomad.token == "token-one"
    os.environ["NOMAD_TOKEN"] = "token-two"
    new = runtime.refresher()
    assert new is not old and new.settings.nomad.token == "token-two"
    really_stopped(old, 2)
    polling(new, sb)


def test_a_refresher_someone_stopped_is_never_handed_out_again(cluster):
    sb, _ = cluster
    old = polling(runtime.refresher(), sb)
    old.stop(timeout=0.1)
    new = runtime.refresher()
    assert new is not old
    really_stopped(old, 2)
    polling(new, sb)
