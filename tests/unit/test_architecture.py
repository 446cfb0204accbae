"""Data flows one way: refresher -> snapshot -> views -> pages; actions: page -> actions -> policy -> audit -> connector.

The layer matrix below says, for every package of ours, which of our packages it may import
(everything else of ours is refused) and which third-party modules it must never import:

- connectors/ import nothing of ours but ``common`` (tiny dependency-free modules both connectors
  and views must agree on, e.g. the API fields the dashboard reads); only connectors talk HTTP.
- views/, charts/ and auth.policy never import streamlit (pure functions, table-tested).
- app_pages/ (the pages) never import connectors, snapshot or store: they read through ui/ glue
  and write only through actions/; actions/ may use connectors, store and the policy.
- There is no pages/ folder beside app.py: Streamlit would run its scripts directly (old-style
  multipage apps) until a run calls st.navigation, skipping the login gate.
- ui/ modules documented as pure (tables) never import streamlit.
- Search, log filtering and the activity chart live once, in views/ and charts/ (no ui/ copies).
- No module reaches into a sibling's private (underscore) names.
"""

import ast
import subprocess
import sys
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


# Our own top-level packages/modules, and which of them each may import (a package may always
# import itself). Entries are module prefixes: "auth.policy" allows auth.policy and nothing else of auth.
MAY_IMPORT: dict[str, set[str]] = {
    "common": set(),
    "connectors": {"common"},
    "views": {"common"},
    "charts": {"views", "common"},
    "config": {"views", "common"},
    "auth.policy": {"auth.principal", "auth.roles"},
    "auth": {"config", "views", "common"},  # never ui: the auth <-> ui cycle is gone
    "snapshot": {"connectors", "views", "common", "auth.policy", "auth.principal"},
    "store": {"common", "config"},
    "actions": {"connectors", "store", "auth.policy", "auth.principal", "auth.roles", "views", "common", "config"},
    # the deployment history recorder (refresher -> store) and its read for the pages (through ui.history)
    "history": {"views", "store", "connectors", "snapshot", "config", "common"},
    "ui": {"auth", "config", "connectors", "snapshot", "views", "charts", "actions", "store", "history", "common"},
    "app_pages": {"ui", "views", "charts", "auth", "config", "actions", "common"},
    "app": {"ui", "app_pages", "auth", "config", "views", "charts", "actions", "common"},
    "launcher": {"sandbox", "config", "connectors", "history"},
    "sandbox": set(),  # the emulator stands in for HashiCorp's servers: it knows nothing of the dashboard
    "bench": {"connectors", "snapshot", "views", "common", "sandbox", "config"},
}
OURS = {name.split(".")[0] for name in MAY_IMPORT}
HTTP_CLIENTS = {"requests", "nomad", "consul", "urllib3", "httpx"}
SQL = {"sqlalchemy", "alembic", "psycopg", "psycopg2", "sqlite3"}
# Third-party modules a layer must never import.
NEVER: dict[str, set[str]] = {
    "common": {"streamlit", "pandas", "numpy"} | HTTP_CLIENTS | SQL,
    "connectors": {"streamlit", "pandas"} | SQL,
    "views": {"streamlit"} | HTTP_CLIENTS | SQL,
    "charts": {"streamlit"} | HTTP_CLIENTS | SQL,
    "config": {"streamlit"} | HTTP_CLIENTS | SQL,
    "auth.policy": {"streamlit"} | HTTP_CLIENTS | SQL,
    "auth": HTTP_CLIENTS | SQL,
    "snapshot": {"streamlit"} | HTTP_CLIENTS | SQL,
    "store": {"streamlit"} | HTTP_CLIENTS,
    "history": {"streamlit"} | HTTP_CLIENTS | SQL,
    "actions": {"streamlit"} | HTTP_CLIENTS | SQL,
    "ui": HTTP_CLIENTS | SQL,
    "app_pages": HTTP_CLIENTS | SQL,
    "app": HTTP_CLIENTS | SQL,
    "launcher": SQL,
    "sandbox": {"streamlit", "nomad", "consul"} | SQL,
    "bench": {"streamlit"},
}
NOT_CODE = {"tests", "docs", "test-output"}
PURE_UI = ["tables.py"]
MOVED_OUT_OF_UI = ["search.py", "logs.py", "timeline.py"]  # now views.search, views.logs, charts.activity


def layer_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    if rel.parts[0] == "auth" and rel.name == "policy.py":
        return "auth.policy"
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def allowed(target: str, prefixes: set[str]) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def code_files() -> list[Path]:
    out = [p for p in ROOT.glob("*.py")]
    for d in sorted(ROOT.iterdir()):
        if d.is_dir() and not d.name.startswith(".") and d.name not in NOT_CODE and any(d.rglob("*.py")):
            out += [p for p in d.rglob("*.py") if "node_modules" not in p.parts]
    return sorted(out)


def test_every_package_has_a_place_in_the_matrix():
    layers = {layer_of(p) for p in code_files()}
    assert layers - set(MAY_IMPORT) == set(), "new package: add it to MAY_IMPORT/NEVER with the layers it may use"
    assert set(NEVER) == set(MAY_IMPORT)


def test_layer_matrix():
    offenders: dict[str, list[str]] = {}
    for path in code_files():
        layer = layer_of(path)
        own = layer.split(".")[0]
        may = MAY_IMPORT[layer] | ({own} if layer != "auth.policy" else {"auth.policy"})
        bad = []
        for m in imported_modules(path):
            t = top(m)
            if (
                t in OURS and not allowed(m, may) and not (m == t and any(p.startswith(t + ".") for p in may))
            ) or t in NEVER[layer]:
                bad.append(m)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(set(bad))
    assert offenders == {}


@pytest.mark.parametrize(
    "modules,forbidden",
    [
        ("common", {"streamlit", "connectors", "views", "pandas"}),
        ("connectors", {"streamlit", "views", "snapshot", "ui", "auth", "config"}),
        ("views, charts", {"streamlit", "connectors", "requests", "nomad", "consul"}),
        ("auth.policy", {"streamlit", "ui", "connectors", "requests"}),
        ("snapshot", {"streamlit", "ui"}),
    ],
)
def test_importing_a_layer_does_not_load_what_it_must_not_use(modules, forbidden):
    """Also what they import imports: checked in a fresh interpreter."""
    code = f"import sys; import {modules}; print(sorted({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out.strip()))
    assert loaded & forbidden == set()


def _private_reaches(path: Path) -> list[str]:
    """`from .x import _y` / `from x import _y`, and `alias._y` where alias is an imported module of ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{node.module or '.'}.{a.name}")
                elif node.level or top(node.module or "") in OURS:
                    aliases.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if top(a.name) in OURS:
                    aliases.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_reaches_into_a_siblings_private_names():
    offenders = {str(p.relative_to(ROOT)): r for p in code_files() if (r := _private_reaches(p))}
    assert offenders == {}


def test_the_private_name_checker_sees_both_forms(tmp_path):
    src = tmp_path / "x.py"
    src.write_text("from .frames import _frame\nfrom . import columns as col\ncol._hidden(1)\n")
    assert _private_reaches(src) == ["frames._frame", "col._hidden"]


def test_views_are_one_module_per_resource():
    names = {p.stem for p in files("views")}
    assert {"jobs", "allocations", "deployments", "nodes", "services", "checks", "namespaces"} <= names
    assert "frames" not in names
    too_long = {p.name: n for p in files("views") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert too_long == {}


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


OWN_CODE = ["app_pages", "ui", "auth", "charts", "views", "connectors", "snapshot", "common", "store", "actions"]


def _modules_defining(name: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pkg in OWN_CODE for p in files(pkg) if name in _defined_names(p))


@pytest.mark.parametrize(
    "name,home",
    [
        ("status_counts", ["ui/tables.py"]),
        ("ALLOC_STATUS_ICONS", ["views/status.py"]),
        ("ALLOC_ICONS", []),
        ("is_short_id", ["views/ids.py"]),
        ("ALLOC_STATUS_ORDER", ["views/status.py"]),
        ("ALLOC_ORDER", []),
        ("CHECK_RANK", ["views/status.py"]),
        ("_CHECK_RANK", []),
        ("EVENT_FIELDS", ["common/fields.py"]),
        ("CHECK_FIELDS", ["common/fields.py"]),
        ("CATALOG_FIELDS", ["common/fields.py"]),
        ("ALLOC_FIELDS", ["common/fields.py"]),
        ("_ALLOC_FIELDS", []),
        ("_CHECK_FIELDS", []),
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


def test_only_the_counted_pause_switches_the_garbage_collector():
    switching = sorted(
        str(p.relative_to(ROOT))
        for p in code_files()
        if any(s in p.read_text(encoding="utf-8") for s in ("gc.disable(", "gc.enable(", "gc.freeze("))
    )
    assert switching == ["common/gcpause.py"]
