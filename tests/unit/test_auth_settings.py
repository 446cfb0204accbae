"""Which [auth] secrets make sign-in work, and which providers get a button."""

from auth.settings import missing_settings, providers

SHARED = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
PROVIDER = {
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}


def test_nothing_configured_says_add_the_auth_table():
    assert missing_settings(None) == ["[auth] table in .streamlit/secrets.toml"]
    assert missing_settings({}) == ["[auth] table in .streamlit/secrets.toml"]


def test_default_provider():
    auth = {**SHARED, **PROVIDER}
    assert missing_settings(auth) == []
    assert [(p.name, p.label) for p in providers(auth)] == [("default", "single sign-on")]
    assert providers({**auth, "display_name": "Acme SSO"})[0].label == "Acme SSO"


def test_named_providers_get_one_button_each():
    auth = {
        **SHARED,
        "okta": dict(PROVIDER),
        "microsoft": dict(PROVIDER),
        "keycloak": {**PROVIDER, "display_name": "Company login"},
    }
    assert missing_settings(auth) == []
    assert [(p.name, p.label) for p in providers(auth)] == [
        ("okta", "Okta"),
        ("microsoft", "Microsoft"),
        ("keycloak", "Company login"),
    ]


def test_missing_keys_are_named_exactly():
    assert missing_settings({"client_id": "id"}) == [
        "[auth] redirect_uri",
        "[auth] cookie_secret",
        "[auth] client_secret",
        "[auth] server_metadata_url",
    ]
    assert missing_settings({**SHARED, "okta": {"client_id": "id"}}) == [
        "[auth.okta] client_secret",
        "[auth.okta] server_metadata_url",
    ]


def test_redirect_uri_must_end_in_oauth2callback():
    auth = {**SHARED, **PROVIDER, "redirect_uri": "http://localhost:8501/"}
    assert missing_settings(auth) == ["[auth] redirect_uri ending in /oauth2callback"]


def test_provider_names_with_underscores_are_refused_like_streamlit_does():
    auth = {**SHARED, "my_idp": dict(PROVIDER)}
    assert providers(auth) == []
    assert "[auth.my_idp]: a provider name without underscores" in missing_settings(auth)
