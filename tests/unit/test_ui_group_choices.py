"""The rolling-restart choices on a client's page (ui.actions.group_choices): which task groups can
be restarted, and whether each choice names its cluster."""

from __future__ import annotations

import pandas as pd

from ui.actions import group_choices


def allocs(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """(cluster, client, job, client status) rows, group "api", the client's namespace."""
    return pd.DataFrame(
        [
            {"cluster": c, "client": cl, "namespace": cl, "job_id": j, "task_group": "api", "client_status": s}
            for c, cl, j, s in rows
        ]
    )


def test_a_client_down_in_one_cluster_is_told_which_cluster_its_choices_restart():
    """The client's jobs table shows it in ca-east and ca-west, but nothing runs in ca-west: the only
    group that can be restarted is ca-east's, and its label says so (it read "acme-api / api"
    alone, which a support person could take for the ca-west job shown just above)."""
    labels, _counts, several = group_choices(
        allocs(("ca-east", "acme", "acme-api", "running"), ("ca-west", "acme", "acme-api", "failed")), "acme", set()
    )
    assert several
    assert labels == {"acme-api / api (ca-east)": ("ca-east", "acme", "acme-api", "api")}


def test_a_client_in_one_cluster_reads_plain_labels_and_only_running_groups():
    frame = allocs(
        ("ca-east", "acme", "acme-api", "running"),
        ("ca-east", "acme", "acme-web", "complete"),
        ("ca-west", "other", "other-api", "running"),
    )
    labels, counts, several = group_choices(frame, "acme", set())
    assert not several
    assert counts == {("ca-east", "acme", "acme-api", "api"): 1}  # the restart dialog's count
    assert labels == {"acme-api / api": ("ca-east", "acme", "acme-api", "api")}
    # A rolling restart on record in another cluster counts as being there too.
    assert group_choices(frame, "acme", {"ca-west"})[0] == {
        "acme-api / api (ca-east)": ("ca-east", "acme", "acme-api", "api")
    }
