"""mypy reports the mistakes in tests/typing/fail/, at the lines and with the codes marked ``# E:``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT

FAIL_DIR = Path(__file__).resolve().parent / "fail"
_MARK = re.compile(r"#\s*E:\s*([\w-]+(?:,\s*[\w-]+)*)\s*$")
_ERROR = re.compile(r"^[^:]+:(\d+): error: .*\[([\w-]+)\]$")


def _expected(path: Path) -> set[tuple[int, str]]:
    lines = path.read_text().splitlines()
    return {
        (number, code.strip())
        for number, line in enumerate(lines, 1)
        if (m := _MARK.search(line))
        for code in m.group(1).split(",")
    }


@pytest.mark.parametrize("path", sorted(FAIL_DIR.glob("*.py")), ids=lambda p: p.name)
def test_mypy_reports_marked_errors(path: Path) -> None:
    expected = _expected(path)
    assert expected, f"{path.name} marks no expected error"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--show-error-codes",
         "--config-file", str(ROOT / "pyproject.toml"), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = {(int(m.group(1)), m.group(2)) for line in result.stdout.splitlines() if (m := _ERROR.match(line))}
    assert found == expected, result.stdout
