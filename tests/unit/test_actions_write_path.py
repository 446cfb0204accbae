"""One write path: only actions/ calls a connector's write methods (restart, stop); pages do not write the store.

A page that called ``restart_allocation`` itself would skip the policy, the guards and the audit trail.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = {"restart_allocation", "stop_allocation"}
STORE_WRITES = {"append", "request", "release_cooldown", "renew_lease", "release_lease", "create", "finish"}


def calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}


def code() -> list[Path]:
    skip = {"tests", "sandbox", "connectors", "actions", "bench", ".venv", "docs"}
    return [p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in skip and "node_modules" not in p.parts]


def test_only_actions_call_nomad_write_methods():
    offenders = {str(p.relative_to(ROOT)): sorted(calls(p) & WRITES) for p in code() if calls(p) & WRITES}
    assert offenders == {}


def test_pages_and_ui_never_call_the_store_directly():
    ui_and_pages = [p for p in code() if p.relative_to(ROOT).parts[0] in ("app_pages", "ui")]
    assert ui_and_pages
    offenders = {
        str(p.relative_to(ROOT)): sorted(calls(p) & STORE_WRITES) for p in ui_and_pages if calls(p) & STORE_WRITES
    }
    assert offenders == {}


def test_the_checker_sees_a_write_call(tmp_path):
    src = tmp_path / "page.py"
    src.write_text("def f(c):\n    c.nomad.restart_allocation('x')\n")
    assert calls(src) & WRITES == {"restart_allocation"}
