"""One version value: read from Consul/Nomad meta, tags or an image reference, and ordered (pure).

``version_key`` orders versions: semantic versions (``1.10.0 > 1.9.3``, ``1.2.0 > 1.2.0-rc.1``,
a leading ``v`` ignored) above anything else; other strings in natural order among themselves.
``newest_of`` only names a newest version when every version looks semantic (git hashes or
dates cannot be ordered honestly against release numbers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DEFAULT_META_KEYS: tuple[str, ...] = ("version",)
UNKNOWN = ""  # no source gave a version

# ---------------------------------------------------------------- reading one version

_SEMVER = re.compile(
    r"^[vV]?(?P<nums>\d+(?:\.\d+){0,3})(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$",
)
_TAG_KV = re.compile(r"^(?:version|app[_-]?version)\s*[=:]\s*(?P<v>\S+)$", re.IGNORECASE)
_TAG_V = re.compile(r"^v\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_CHUNKS = re.compile(r"(\d+)")


def version_from_meta(meta: Any, keys: Sequence[str] = DEFAULT_META_KEYS) -> str:
    """The first non-empty meta value among ``keys`` ('' when none)."""
    if not isinstance(meta, Mapping):
        return UNKNOWN
    for key in keys:
        v = meta.get(key)
        if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip():
            return str(v).strip()
    return UNKNOWN


def version_from_tags(tags: Any) -> str:
    """A ``version=1.2.3`` / ``version:1.2.3`` tag, else a ``v1.2.3`` tag ('' when none)."""
    if not isinstance(tags, (list, tuple)):
        return UNKNOWN
    plain = UNKNOWN
    for tag in tags:
        if not isinstance(tag, str):
            continue
        m = _TAG_KV.match(tag.strip())
        if m:
            return m.group("v")
        if not plain and _TAG_V.match(tag.strip()):
            plain = tag.strip()
    return plain


def version_from_image(image: Any) -> str:
    """The tag of a container image reference ('' for no tag, ``latest`` or a digest-only reference).

    ``registry.example.ca:5000/acme/web:1.4.2`` -> ``1.4.2``; ``web@sha256:...`` -> ''.
    """
    if not isinstance(image, str) or not image.strip():
        return UNKNOWN
    ref = image.strip().split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return UNKNOWN
    tag = last.rsplit(":", 1)[1]
    return UNKNOWN if tag in ("", "latest") else tag


def images_of_job(job: Any) -> dict[str, str]:
    """Task group -> image of its first task that has one, from a full job (GET /v1/job/:id)."""
    out: dict[str, str] = {}
    if not isinstance(job, Mapping):
        return out
    for group in job.get("TaskGroups") or ():
        if not isinstance(group, Mapping):
            continue
        for task in group.get("Tasks") or ():
            cfg = task.get("Config") if isinstance(task, Mapping) else None
            image = cfg.get("image") if isinstance(cfg, Mapping) else None
            if isinstance(image, str) and image:
                out[str(group.get("Name") or "")] = image
                break
    return out


# ---------------------------------------------------------------- ordering


def is_semver(version: str) -> bool:
    return bool(_SEMVER.match(version or ""))


def version_key(version: str) -> tuple:
    """Sort key: semantic versions above other strings; numeric parts compare as numbers.

    ``1.2.0-rc.1 < 1.2.0 < 1.10.0``; ``2024.1.5`` is numeric too; ``abc123`` sorts below any of them.
    """
    m = _SEMVER.match(version or "")
    if m:
        nums = tuple(int(x) for x in m.group("nums").split("."))
        nums = nums + (0,) * (4 - len(nums))
        pre = m.group("pre")
        # A release sorts after its pre-releases; pre-release parts compare naturally.
        pre_key = (1,) if pre is None else (0, *_natural(pre))
        return (1, nums, pre_key)
    return (0, _natural(version or ""), ())


def _natural(s: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in _CHUNKS.split(s) if p)


def sort_versions(versions: Iterable[str], *, newest_first: bool = True) -> list[str]:
    return sorted({v for v in versions if v}, key=version_key, reverse=newest_first)


def newest_of(versions: Iterable[str]) -> str:
    """The newest version, or '' when there is none or they cannot be ordered (not all semantic)."""
    vs = [v for v in versions if v]
    if not vs or not all(is_semver(v) for v in vs):
        return UNKNOWN
    return max(vs, key=version_key)
