"""``auth`` never imports ``ui``: the login gate that renders lives in ``ui.login`` and imports
``auth``, so there is one direction between the two packages (an import cycle made each load the
other half-initialised, depending on which one a test or page imported first)."""

from __future__ import annotations

import ast
from pathlib import Path

AUTH = Path(__file__).resolve().parents[2] / "auth"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # function-level imports too
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_auth_imports_ui():
    offenders = {
        p.name: sorted(m for m in imported_modules(p) if m == "ui" or m.startswith("ui."))
        for p in sorted(AUTH.glob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) >= 5  # the package was found
