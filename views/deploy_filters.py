"""Filters of the deployments page (period, client, job role, job type, datacenter): pure."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .rollouts import with_roles


@dataclass(frozen=True)
class DeployFilter:
    client: str = ""
    job: str = ""  # job role (the job ID without the client prefix): the same job across clients
    job_type: str = ""
    datacenter: str = ""

    def apply(self, history: pd.DataFrame) -> pd.DataFrame:
        df = with_roles(history)
        if self.client:
            df = df[df["client"] == self.client]
        if self.job:
            df = df[df["role"] == self.job]
        if self.job_type:
            df = df[df["job_type"] == self.job_type]
        if self.datacenter:
            df = df[[self.datacenter in dcs.split(",") for dcs in df["datacenters"]]]
        return df


def choices(history: pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter can take in this history (sorted, no blanks)."""
    df = with_roles(history)
    dcs = sorted({dc for v in df["datacenters"] for dc in v.split(",") if dc})
    pick = lambda col: sorted(v for v in set(df[col]) if v)  # noqa: E731
    return {"client": pick("client"), "job": pick("role"), "job_type": pick("job_type"), "datacenter": dcs}


def export_columns(history: pd.DataFrame) -> pd.DataFrame:
    """The underlying deployments as a CSV-ready table (times in UTC ISO-8601, no nested columns)."""
    df = history.drop(columns=[c for c in ("groups", "role") if c in history.columns]).copy()
    for c in ("create_time", "modify_time"):
        df[c] = df[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    return df
