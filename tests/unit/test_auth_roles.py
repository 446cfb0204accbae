"""Groups claim parsing and the group -> role mapping."""

import pytest

import config
from auth.roles import groups_granting_access, parse_groups, roles_for

GROUP_ROLES = config.load().group_roles


@pytest.mark.parametrize(
    "value, expected",
    [
        (["dash-support", "dash-managers"], ("dash-support", "dash-managers")),
        ("dash-support dash-managers", ("dash-support", "dash-managers")),
        ("dash-support,dash-managers", ("dash-support", "dash-managers")),
        ("dash-support, dash-managers ,, ", ("dash-support", "dash-managers")),
        (["dash-support", "dash-support", ""], ("dash-support",)),
        ([], ()),
        ("", ()),
        (None, ()),
        ({"not": "a list"}, ()),
        (42, ()),
    ],
)
def test_parse_groups_accepts_lists_and_separated_strings(value, expected):
    assert parse_groups({"groups": value}) == expected


def test_parse_groups_reads_the_configured_claim_only():
    claims = {"groups": ["dash-admins"], "roles": ["dash-support"]}
    assert parse_groups(claims, "roles") == ("dash-support",)
    assert parse_groups(claims, "missing") == ()


def test_each_demo_group_maps_to_its_role():
    assert roles_for(["dash-viewers"], GROUP_ROLES) == {"viewer"}
    assert roles_for(["dash-support"], GROUP_ROLES) == {"support"}
    assert roles_for(["dash-managers"], GROUP_ROLES) == {"manager"}
    assert roles_for(["dash-admins"], GROUP_ROLES) == {"admin"}


def test_several_groups_give_the_union_and_unknown_groups_give_nothing():
    assert roles_for(["dash-support", "dash-managers", "finance"], GROUP_ROLES) == {"support", "manager"}
    assert roles_for(["finance", "Dash-Admins"], GROUP_ROLES) == frozenset()  # exact, case-sensitive


def test_one_group_may_carry_several_roles_and_unknown_roles_are_dropped():
    mapping = {"ops": ("support", "manager"), "odd": ("superuser",)}
    assert roles_for(["ops", "odd"], mapping) == {"support", "manager"}
    assert groups_granting_access(mapping) == ("ops",)


def test_groups_granting_access_lists_the_configured_groups():
    assert groups_granting_access(GROUP_ROLES) == ("dash-viewers", "dash-support", "dash-managers", "dash-admins")


def test_the_role_list_is_defined_once_in_config():
    import auth.roles

    assert auth.roles.ROLES is config.ROLES
    assert not hasattr(auth.roles, "KNOWN_ROLES")
    # a role outside config.ROLES is never granted, even if a mapping names it
    assert roles_for(["g"], {"g": ["viewer", "superuser"]}) == {"viewer"}
