"""``mypy --strict`` passes on the package and the tests (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from tests.live import ROOT


def test_mypy_strict_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
