"""Raw allocation JSON for support: an allowlist, and no credential survives in any URL.

Field names and the artifact shape come from Nomad's structs (nomad/structs/structs.go, v1.11.3:
TaskArtifact.GetterSource/GetterOptions/GetterHeaders, Task.Env/Templates/Vault/Identity,
ServiceCheck.Header/Args, Job.Payload/NomadTokenID); go-getter source forms (``s3::``, ``git::``,
``user:token@``, ``?aws_access_key_id=``) from hashicorp/go-getter's README.
"""

from __future__ import annotations

import json

from ui.redact import REMOVED_QUERY, getter_source, redact_allocation, strip_url_secrets

SECRETS = (
    "AKIAHUNTER2",
    "s3cr3t-key",
    "ghp_hunter2",
    "hunter2",
    "hvs.hunter2",
    "eyJhbGciOi",
    "sig=abcdef",
    "db-pass-123",
    "aHVudGVyMg==",
    "tok-meta",
    "Bearer xyz",
    "ssh-key-b64",
    "nomad-token-id",
)


def credential_job() -> dict:
    task = {
        "Name": "web",
        "Driver": "docker",
        "Config": {
            "image": "registry.example.ca/web:1.4.2",
            "args": ["--db-password", "db-pass-123"],
            "auth": {"username": "ci", "password": "hunter2"},
            "entrypoint": ["sh", "-c", "export TOKEN=hunter2; exec app"],
        },
        "Env": {"DB_PASSWORD": "db-pass-123"},
        "Templates": [{"EmbeddedTmpl": '{{ with secret "db" }}hunter2{{ end }}', "DestPath": "secrets/db"}],
        "Vault": {"Policies": ["db"], "Role": "hvs.hunter2"},
        "Consul": {"Namespace": "x"},
        "Identity": {"Audience": ["vault"]},
        "Meta": {"api_token": "tok-meta"},
        "Resources": {"CPU": 300, "MemoryMB": 256},
        "Artifacts": [
            {
                "GetterSource": "https://ci:ghp_hunter2@git.example.com/app.tar.gz?sig=abcdef&exp=1",
                "GetterOptions": {"aws_access_key_id": "AKIAHUNTER2", "aws_access_key_secret": "s3cr3t-key"},
                "GetterHeaders": {"Authorization": "Bearer xyz"},
                "GetterMode": "any",
                "RelativeDest": "local/app",
            },
            {"GetterSource": "s3::https://s3.amazonaws.com/bucket/x.zip?aws_access_key_id=AKIAHUNTER2"},
            {"GetterSource": "git::ssh://git@github.com/org/repo?sshkey=ssh-key-b64&ref=main"},
            {"GetterSource": "github.com/org/repo?ref=v1&sshkey=ssh-key-b64"},
        ],
        "Services": [
            {
                "Name": "web",
                "PortLabel": "http",
                "Meta": {"token": "tok-meta"},
                "Checks": [
                    {"Name": "alive", "Type": "http", "Path": "/health", "Header": {"Authorization": ["Bearer xyz"]}},
                    {"Name": "script", "Type": "script", "Command": "check", "Args": ["--password", "hunter2"]},
                ],
            }
        ],
    }
    return {
        "ID": "5b1f2c3d-0000-0000-0000-000000000001",
        "Name": "acme-web.web[0]",
        "ClientStatus": "failed",
        "NodeName": "nomad-tor1-001",
        "SignedIdentities": {"web": "eyJhbGciOiJSUzI1NiJ9.x.y"},
        "TaskStates": {
            "web": {
                "State": "dead",
                "Failed": True,
                "TaskHandle": {"DriverState": "aHVudGVyMg=="},
                "Events": [
                    {
                        "Type": "Failed Artifact Download",
                        "DownloadError": "GET https://ci:ghp_hunter2@git.example.com/app.tar.gz?sig=abcdef: 403",
                        "DisplayMessage": "failed to download https://ci:ghp_hunter2@git.example.com/a?sig=abcdef",
                    }
                ],
            }
        },
        "AllocatedResources": {"Tasks": {"web": {"Cpu": {"CpuShares": 300}, "Memory": {"MemoryMB": 256}}}},
        "Job": {
            "ID": "acme-web",
            "Meta": {"client": "acme", "db_password": "db-pass-123"},
            "Payload": "aHVudGVyMg==",
            "NomadTokenID": "nomad-token-id",
            "VaultToken": "hvs.hunter2",
            "TaskGroups": [{"Name": "web", "Count": 2, "Meta": {"k": "tok-meta"}, "Tasks": [task]}],
        },
    }


def test_no_credential_of_a_job_full_of_them_is_shown():
    alloc = credential_job()
    text = json.dumps(redact_allocation(alloc))
    assert [s for s in SECRETS if s in text] == []
    assert "hunter2" in json.dumps(alloc)  # the input is untouched


def test_what_support_needs_stays_readable():
    out = redact_allocation(credential_job())
    task = out["Job"]["TaskGroups"][0]["Tasks"][0]
    assert task["Config"] == {"image": "registry.example.ca/web:1.4.2"}
    assert set(task) >= {"Name", "Driver", "Resources", "Artifacts", "Services"}
    assert not {"Env", "Templates", "Vault", "Consul", "Identity", "Meta"} & set(task)
    sources = [a["GetterSource"] for a in task["Artifacts"]]
    assert sources == [
        "https://git.example.com/app.tar.gz" + REMOVED_QUERY,
        "s3::https://s3.amazonaws.com/bucket/x.zip" + REMOVED_QUERY,
        "git::ssh://github.com/org/repo" + REMOVED_QUERY,
        "github.com/org/repo" + REMOVED_QUERY,
    ]
    assert task["Artifacts"][0] == {
        "GetterSource": sources[0],
        "GetterMode": "any",
        "RelativeDest": "local/app",
    }
    checks = task["Services"][0]["Checks"]
    assert checks[0] == {"Name": "alive", "Type": "http", "Path": "/health"}
    assert "Meta" not in task["Services"][0] and "Meta" not in out["Job"]
    event = out["TaskStates"]["web"]["Events"][0]
    assert event["DownloadError"] == "GET https://git.example.com/app.tar.gz" + REMOVED_QUERY + " 403"
    assert out["TaskStates"]["web"]["Failed"] is True and "TaskHandle" not in out["TaskStates"]["web"]
    assert out["AllocatedResources"]["Tasks"]["web"]["Memory"] == {"MemoryMB": 256}
    assert out["ClientStatus"] == "failed" and "SignedIdentities" not in out


def test_a_field_nomad_adds_later_is_left_out_until_someone_allows_it():
    assert redact_allocation({"ID": "a", "BrandNewSecretField": "hunter2"}) == {"ID": "a"}
    assert redact_allocation("not an allocation") == {}


def test_url_helpers():
    assert strip_url_secrets("see http://u:p@h.example/x?a=1#f and more") == "see http://h.example/x" + (
        REMOVED_QUERY + " and more"
    )
    assert strip_url_secrets("no url here: a?b") == "no url here: a?b"
    assert getter_source("https://h.example/x.zip") == "https://h.example/x.zip"
    assert getter_source(None) is None
