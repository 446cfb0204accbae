"""connectors._common: one message per kind of failure."""

import json

from connectors import _common
from connectors.errors import BadResponse


def _ctx():
    return _common.Context(source="Nomad", addr="http://nomad:4646", doing="list jobs in all namespaces")


def test_invalid_json_has_one_message_whichever_path_reports_it():
    try:
        json.loads("{not json")
    except ValueError as exc:
        err = exc
    via_exception = _common.from_exception(_ctx(), err)
    direct = _common.bad_json(_ctx(), err)
    assert isinstance(via_exception, BadResponse)
    assert str(via_exception) == str(direct)
    assert "not valid JSON" in str(direct) and "list jobs in all namespaces" in str(direct)


def test_from_exception_delegates_json_errors_to_bad_json(monkeypatch):
    marker = BadResponse("Nomad", "the one place")
    monkeypatch.setattr(_common, "bad_json", lambda ctx, exc: marker)
    assert _common.from_exception(_ctx(), ValueError("Expecting value")) is marker
