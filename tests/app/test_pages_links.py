"""Links only to pages this person may open, and text from the cluster or the identity provider shown
literally (no Markdown links smuggled in through a name)."""

from __future__ import annotations

from conftest import make_user_claims


def _client_with_allocs(snap) -> str:
    return snap.frames.allocations["client"].value_counts().index[0]


def _alloc_table(at):
    return next(df.value for df in at.dataframe if "allocation" in df.value.columns and "job" in df.value.columns)


def test_manager_sees_allocation_ids_as_plain_text_on_the_client_page(open_page, snap):
    at = open_page("app_pages/client.py", role="manager", client=_client_with_allocs(snap))
    values = _alloc_table(at)["allocation"].tolist()
    assert values and all("?" not in v and len(v) == 8 for v in values)
    assert at.session_state["allowed_pages"] == frozenset(
        {"health", "client", "versions", "residency", "deployments", "rollouts", "audit"}
    )
    # no row selection either: a click cannot switch to a page the manager does not have
    table = next(df for df in at.dataframe if "allocation" in df.value.columns and "job" in df.value.columns)
    assert not table.proto.selection_mode


def test_support_keeps_allocation_links_and_row_selection(open_page, snap):
    at = open_page("app_pages/client.py", role="support", client=_client_with_allocs(snap))
    values = _alloc_table(at)["allocation"].tolist()
    assert values and all(v.startswith("allocation?alloc=") for v in values)
    table = next(df for df in at.dataframe if "allocation" in df.value.columns and "job" in df.value.columns)
    assert table.proto.selection_mode


def test_a_name_from_the_identity_provider_cannot_become_a_link(cluster_env, snap, run_app):
    at = run_app(user=make_user_claims("support", name="[click me](https://evil.example)"))
    assert not at.exception
    shown = [c.value for c in at.sidebar.caption if "Signed in as" in c.value][0]
    assert "](https://evil.example)" not in shown
    assert "\\[click me\\]\\(https\u2060\\://evil.example\\)" in shown  # escaped, and no autolink


def _json_has_key_with_value(obj, key) -> bool:
    if isinstance(obj, dict):
        return any(
            (k == key and v and not isinstance(v, str)) or _json_has_key_with_value(v, key) for k, v in obj.items()
        )
    if isinstance(obj, list):
        return any(_json_has_key_with_value(v, key) for v in obj)
    return False


def test_raw_allocation_json_is_for_support_only_and_without_secrets(open_page, snap):
    import json

    alloc = snap.frames.allocations["alloc_id"].iloc[0]
    viewer = open_page("app_pages/allocation.py", role="viewer", alloc=alloc)
    assert not [e for e in viewer.expander if "raw allocation JSON" in e.label]
    support = open_page("app_pages/allocation.py", role="support", alloc=alloc)
    raw = [e for e in support.expander if "raw allocation JSON" in e.label]
    assert raw and raw[0].proto.expanded  # opens expanded, and says how to open a section
    assert support.json[0].proto.expanded and support.json[0].proto.max_expand_depth >= 2
    assert any("Click ▸" in c.value for c in support.caption)
    shown = json.loads(support.json[0].proto.body)
    assert shown.get("ID") == alloc
    for key in ("Env", "Templates", "Vault", "Identity", "SignedIdentities"):
        assert not _json_has_key_with_value(shown, key), key
