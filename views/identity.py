"""Which field identifies the client (customer) a workload belongs to.

Configured by one string (``[clients] identify_by`` in dashboard.toml):

==================  ===========================================================
``namespace``       the Nomad namespace (default)
``meta:<key>``      a job meta key, e.g. ``meta:client``
``regex:<pattern>`` a regular expression on the job ID with a named group
                    ``client``, e.g. ``regex:^(?P<client>[a-z0-9-]+)-(web|api)$``
==================  ===========================================================

Resolution runs once per job (``of_job``); allocations and deployments are then
mapped through ``(namespace, job_id)``. ``""`` means "no client" (for example a
system job without the meta key); such rows are kept but belong to no client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_KINDS = ("namespace", "meta", "regex")


@dataclass(frozen=True)
class ClientIdentity:
    kind: str = "namespace"
    key: str = ""  # meta key (kind == "meta")
    pattern: str = ""  # regular expression (kind == "regex")
    _rx: re.Pattern | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"client identity kind must be one of {', '.join(_KINDS)}, not {self.kind!r}")
        if self.kind == "meta" and not self.key:
            raise ValueError("client identity 'meta:<key>' needs a key, e.g. 'meta:client'")
        if self.kind == "regex":
            try:
                rx = re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"client identity regex {self.pattern!r} is not valid: {exc}") from None
            if "client" not in rx.groupindex:
                raise ValueError(f"client identity regex {self.pattern!r} needs a named group (?P<client>...)")
            object.__setattr__(self, "_rx", rx)

    @classmethod
    def parse(cls, spec: str | None) -> ClientIdentity:
        """``"namespace"``, ``"meta:<key>"`` or ``"regex:<pattern>"`` (None/"" = namespace)."""
        spec = (spec or "").strip()
        if spec in ("", "namespace"):
            return cls()
        head, sep, rest = spec.partition(":")
        if sep and head == "meta":
            return cls(kind="meta", key=rest.strip())
        if sep and head == "regex":
            return cls(kind="regex", pattern=rest)
        raise ValueError(f"unknown client identity {spec!r}: use 'namespace', 'meta:<key>' or 'regex:<pattern>'")

    @property
    def spec(self) -> str:
        if self.kind == "meta":
            return f"meta:{self.key}"
        if self.kind == "regex":
            return f"regex:{self.pattern}"
        return "namespace"

    def describe(self) -> str:
        if self.kind == "meta":
            return f"job meta `{self.key}`"
        if self.kind == "regex":
            return f"job ID pattern `{self.pattern}`"
        return "Nomad namespace"

    @property
    def by_namespace(self) -> bool:
        return self.kind == "namespace"

    def of_job(self, namespace: str, job_id: str, meta: Mapping | None = None) -> str:
        """The client of one job ("" when it cannot be told)."""
        if self.kind == "namespace":
            return namespace or ""
        if self.kind == "meta":
            if not meta:
                return ""
            v = meta.get(self.key)
            return v if isinstance(v, str) else ("" if v is None else str(v))
        m = self._rx.search(job_id or "") if self._rx is not None else None  # regex kind: set in __post_init__
        if not m:
            return ""
        return m.group("client") or ""

    def of_namespace(self, namespace: str) -> str:
        """The client a namespace stands for (only when identity is by namespace)."""
        return namespace if self.kind == "namespace" else ""


DEFAULT = ClientIdentity()
