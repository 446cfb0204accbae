"""ui.runtime keys its one-per-process refresher on the settings' values, token included."""

from __future__ import annotations

from unittest import mock

from connectors.settings import ClusterSettings, NomadSettings
from ui import runtime


def test_a_rotated_token_gets_its_own_refresher():
    made = []
    with mock.patch.object(runtime.snapshot_pkg, "get_refresher", side_effect=lambda s, i, wait: made.append(s) or s):
        runtime._refresher.clear()
        a = ClusterSettings(name="c", nomad=NomadSettings(addr="http://127.0.0.1:1", token="old"), consul=None)
        b = ClusterSettings(name="c", nomad=NomadSettings(addr="http://127.0.0.1:1", token="new"), consul=None)
        assert repr(a) == repr(b)  # the token is redacted in repr, so repr cannot be the key
        assert runtime._refresher((a, "namespace"), a, "namespace", 1.0) is a
        assert runtime._refresher((b, "namespace"), b, "namespace", 1.0) is b
        assert runtime._refresher((a, "namespace"), a, "namespace", 1.0) is a  # same values: cached
        runtime._refresher.clear()
    assert made == [a, b]
