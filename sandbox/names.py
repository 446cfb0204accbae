"""Client (customer) names: Canadian licensed-producer style, deterministic per seed."""

from __future__ import annotations

import random

FIRST = [
    "Northern",
    "Maple",
    "Boreal",
    "Prairie",
    "Coastal",
    "Laurentian",
    "Muskoka",
    "Okanagan",
    "Cedar",
    "Granite",
    "Aurora",
    "Tundra",
    "Fraser",
    "Klondike",
    "Algonquin",
    "Niagara",
    "Cariboo",
    "Kootenay",
    "Pacific",
    "Atlantic",
    "Rideau",
    "Yukon",
    "Shield",
    "Saguenay",
    "Gaspe",
    "Fundy",
    "Huron",
    "Superior",
    "Tamarack",
    "Birch",
    "Spruce",
    "Loon",
    "Caribou",
    "Chinook",
    "Georgian",
    "Haliburton",
    "Kawartha",
    "Peace-River",
    "Qu'Appelle",
    "Cypress",
]
SECOND = [
    "Leaf",
    "Harvest",
    "Greens",
    "Botanicals",
    "Cultivation",
    "Growers",
    "Farms",
    "Craft",
    "Canopy",
    "Bloom",
    "Roots",
    "Fields",
    "Gardens",
    "Remedies",
    "Terpenes",
    "Organics",
    "Cannabis",
    "Naturals",
    "Supply",
    "Collective",
]


def slugify(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower().replace("'", "")).strip("-")


def client_names(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` unique (slug, display name) pairs; the first is always Northern Leaf.

    A fixed first client gives docs and tests one name they can rely on.
    """
    rng = random.Random(f"names-{seed}")
    combos = [f"{a} {b}" for a in FIRST for b in SECOND if (a, b) != ("Northern", "Leaf")]
    rng.shuffle(combos)
    names = ["Northern Leaf"] + combos
    out: list[tuple[str, str]] = []
    for i in range(count):
        base = names[i % len(names)]
        round_ = i // len(names)
        name = base if round_ == 0 else f"{base} {round_ + 1}"
        out.append((slugify(name), name))
    return out
