"""The type check of connectors/, snapshot/, views/, auth/ and common/ passes (settings in pyproject.toml).

`make test` runs it as `make typecheck` first; this test makes a plain pytest run say so too, so a
change that breaks the types is seen by whoever runs the tests. (mypy keeps a cache in .mypy_cache:
a second run takes about a second.)
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_type_errors():
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout
