"""config.parse validates the values that would otherwise crash or misbehave later."""

import math
from datetime import timedelta

import pytest

import config
from config import ConfigError, parse


def test_the_shipped_file_loads():
    cfg = config.load()
    assert cfg.identify_by == "namespace" and cfg.max_session_hours == 8
    assert cfg.page_refresh_seconds >= 2 and 1 <= cfg.blocking_wait_seconds <= 600


@pytest.mark.parametrize("hours", [0, -1, math.inf, 1e12, 24 * 30 + 1, math.nan, "soon", True])
def test_max_session_hours_must_be_positive_and_bounded(hours):
    with pytest.raises(ConfigError, match=r"\[auth\] max_session_hours"):
        parse({"auth": {"max_session_hours": hours}})


def test_max_session_hours_in_range_is_a_usable_timedelta():
    cfg = parse({"auth": {"max_session_hours": 24 * 30}})
    assert timedelta(hours=cfg.max_session_hours) == timedelta(days=30)
    assert parse({"auth": {"max_session_hours": 0.5}}).max_session_hours == 0.5


@pytest.mark.parametrize("seconds", [0, 1, -5, 2.5, "often"])
def test_page_seconds_at_least_two(seconds):
    with pytest.raises(ConfigError, match=r"\[refresh\] page_seconds"):
        parse({"refresh": {"page_seconds": seconds}})


@pytest.mark.parametrize("wait", [0, -1, 601, 3600, math.inf, "30s"])
def test_blocking_wait_seconds_between_1_and_600(wait):
    with pytest.raises(ConfigError, match=r"\[refresh\] blocking_wait_seconds"):
        parse({"refresh": {"blocking_wait_seconds": wait}})


def test_refresh_values_in_range_are_kept():
    cfg = parse({"refresh": {"page_seconds": 2, "blocking_wait_seconds": 600}})
    assert (cfg.page_refresh_seconds, cfg.blocking_wait_seconds) == (2, 600)
    assert parse({"refresh": {"blocking_wait_seconds": 1}}).blocking_wait_seconds == 1


@pytest.mark.parametrize("spec", ["nmespace", "meta:", "regex:(", "regex:^(?P<name>.*)$", "label:client"])
def test_identify_by_must_parse(spec):
    with pytest.raises(ConfigError, match=r"\[clients\] identify_by"):
        parse({"clients": {"identify_by": spec}})


@pytest.mark.parametrize("spec", ["namespace", "meta:client", r"regex:^(?P<client>[a-z0-9-]+)-(web|api)$"])
def test_valid_identify_by_is_kept(spec):
    assert parse({"clients": {"identify_by": spec}}).identify_by == spec


def test_unknown_role_names_the_group():
    with pytest.raises(ConfigError, match="dash-x"):
        parse({"roles": {"dash-x": ["root"]}})


def _shipped_links(client):
    return config.load(config.DEFAULT_PATH, env={}).links_for(client)


def test_client_links_encode_a_hostile_name_where_it_lands():
    """A name set by any job author (``meta:`` identity) stays one path segment / one query value."""
    from urllib.parse import parse_qs, urlsplit

    name = "../../admin?x=1&role=admin#top"
    links = _shipped_links(name)
    runbook, tickets, logs = (urlsplit(links[k]) for k in ("runbook", "tickets", "logs"))
    assert runbook.netloc == "wiki.example.com" and runbook.path.count("/") == 2  # /runbooks/<one segment>
    assert runbook.path.startswith("/runbooks/") and not runbook.query and not runbook.fragment
    assert parse_qs(tickets.query) == {"client": [name]} and not tickets.fragment
    assert parse_qs(logs.query) == {"q": [f"client:{name}"]} and not logs.fragment


def test_a_dot_segment_name_gets_no_path_link_but_keeps_query_links():
    links = _shipped_links("..")
    assert "runbook" not in links  # browsers resolve "..", even percent-encoded, to the parent
    assert links["tickets"] == "https://support.example.com/issues?client=.."


def test_plain_client_names_fill_in_unchanged():
    assert _shipped_links("northern-leaf")["runbook"] == "https://wiki.example.com/runbooks/northern-leaf"
