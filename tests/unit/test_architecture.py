"""Data flows one way: pages read the snapshot through ui/ glue; views and charts stay pure.

- app_pages/ (the pages), views/, charts/ never import connectors (or requests): only connectors talk HTTP.
- There is no pages/ folder beside app.py: Streamlit would run its scripts directly (old-style
  multipage apps) until a run calls st.navigation, skipping the login gate.
- views/ and charts/ never import streamlit (pure functions, table-tested).
- ui/ modules documented as pure (tables) never import streamlit.
- Search, log filtering and the activity chart live once, in views/ and charts/ (no ui/ copies).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: stays inside its own package
                continue
            found.add(node.module or "")
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


RULES = [
    ("app_pages", {"connectors", "requests", "nomad", "consul"}),
    ("views", {"connectors", "requests", "nomad", "consul", "streamlit"}),
    ("charts", {"connectors", "requests", "nomad", "consul", "streamlit"}),
]
PURE_UI = ["tables.py"]
MOVED_OUT_OF_UI = ["search.py", "logs.py", "timeline.py"]  # now views.search, views.logs, charts.activity


@pytest.mark.parametrize("package,forbidden", RULES, ids=[r[0] for r in RULES])
def test_package_never_imports_forbidden_modules(package, forbidden):
    offenders = {}
    for path in files(package):
        bad = sorted(m for m in imported_modules(path) if top(m) in forbidden)
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}, f"{package}/ must not import {sorted(forbidden)}"


def test_no_old_style_pages_folder_beside_the_entry_script():
    assert not (ROOT / "pages").exists()


def test_the_support_pages_exist_and_are_checked():
    names = {p.name for p in files("app_pages")}
    assert {"health.py", "client.py", "allocation.py", "nodes.py"} <= names


@pytest.mark.parametrize("name", PURE_UI)
def test_pure_ui_helpers_import_no_streamlit(name):
    path = ROOT / "ui" / name
    assert path.exists()
    assert not {m for m in imported_modules(path) if top(m) in {"streamlit", "connectors", "requests"}}


@pytest.mark.parametrize("name", MOVED_OUT_OF_UI)
def test_no_second_copy_in_ui(name):
    assert not (ROOT / "ui" / name).exists()


def test_the_checker_sees_imports_in_every_form(tmp_path):
    src = tmp_path / "x.py"
    src.write_text(
        "import connectors.nomad\nfrom requests import get\nimport importlib\n"
        "importlib.import_module('streamlit')\ndef f():\n    from connectors import errors\n"
    )
    assert {top(m) for m in imported_modules(src)} >= {"connectors", "requests", "streamlit"}


def _defined_names(path: Path) -> set[str]:
    """Top-level functions, classes and assigned names of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


OWN_CODE = ["app_pages", "ui", "auth", "charts", "views", "connectors", "snapshot"]


def _modules_defining(name: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pkg in OWN_CODE for p in files(pkg) if name in _defined_names(p))


@pytest.mark.parametrize(
    "name,home",
    [
        ("status_counts", ["ui/tables.py"]),
        ("ALLOC_STATUS_ICONS", ["views/status.py"]),
        ("ALLOC_ICONS", []),
        ("is_short_id", ["views/ids.py"]),
    ],
)
def test_written_once(name, home):
    assert _modules_defining(name) == home


def test_the_uuid_pattern_is_written_in_connectors_and_once_in_views_only():
    # connectors validates input before a request and must not import views; views/ui use views.ids.
    pattern = "[0-9a-f]{8}-[0-9a-f]{4}"
    holders = sorted(
        str(p.relative_to(ROOT))
        for pkg in OWN_CODE + ["app_pages"]
        for p in files(pkg)
        if pattern in p.read_text(encoding="utf-8")
    )
    assert sorted(set(holders)) == ["connectors/paths.py", "views/ids.py"]
