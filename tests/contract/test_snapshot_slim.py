"""Slimming the kept raw JSON must not change a single cell of any frame."""

from datetime import datetime, timezone

import pandas as pd

from connectors.settings import load
from snapshot import Refresher
from snapshot.slim import slim_allocations, slim_consul_services
from views import ClientIdentity

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def test_frames_identical_with_and_without_slimming(sandbox):
    settings = load({"NOMAD_ADDR": sandbox.nomad_addr, "CONSUL_HTTP_ADDR": sandbox.consul_addr})
    full = Refresher(settings, ClientIdentity(), slim_raw=False, clock=lambda: NOW).refresh_once()
    slim_ref = Refresher(settings, ClientIdentity(), slim_raw=True, clock=lambda: NOW)
    slim = slim_ref.refresh_once()
    assert full.ok and slim.ok
    for name, frame in full.frames.as_dict().items():
        pd.testing.assert_frame_equal(frame, getattr(slim.frames, name), obj=f"frame {name}")
    # and the kept raw really is slimmer
    events = [e for a in slim_ref.raw()["allocations"] for st in (a.get("TaskStates") or {}).values()
              for e in st.get("Events") or []]
    assert events and all("" not in e.values() for e in events)


def test_slimming_keeps_zero_and_false():
    allocs = [{"TaskStates": {"web": {"Events": [{"Type": "Started", "Message": "", "ExitCode": 0, "FailsTask": False, "Details": {}}]}}}]
    assert slim_allocations(allocs)[0]["TaskStates"]["web"]["Events"] == [{"Type": "Started", "ExitCode": 0, "FailsTask": False}]
    services = {"web": [{"ServiceName": "web", "ServiceKind": "", "ServiceProxy": {}, "ServicePort": 0}]}
    assert slim_consul_services(services) == {"web": [{"ServiceName": "web", "ServicePort": 0}]}
