"""The import graph follows the architecture (STYLE.md §1)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "sluice"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((SRC / "server" / "protocol").glob("*.py")), ids=lambda p: p.name)
def test_protocol_imports_no_io(path: Path) -> None:
    forbidden = {"socket", "select", "selectors", "threading", "time", "os", "asyncio"}
    imported = {name.split(".")[0] for name in _imports(path)}
    assert not imported & forbidden
    assert not any(n.startswith("sluice.server.") and not n.startswith("sluice.server.protocol") for n in _imports(path))


GATEWAY_LAYER = ("wsgi", "input", "response", "gateway")


@pytest.mark.parametrize("name", GATEWAY_LAYER)
def test_the_gateway_layer_imports_only_protocol_and_itself_from_server(name: str) -> None:
    # The WSGI contract, wsgi.input, the response writer and the gateway know
    # nothing of sockets, the loop or processes: the worker drives them.
    names = _imports(SRC / "server" / f"{name}.py")
    allowed = {"sluice.server.protocol", "sluice.server.protocol.writer"} | {f"sluice.server.{m}" for m in GATEWAY_LAYER}
    assert {n for n in names if n.startswith("sluice.server")} <= allowed


@pytest.mark.parametrize("path", sorted(p for p in SRC.glob("*.py") if p.name not in ("cli.py", "__init__.py")), ids=lambda p: p.name)
def test_app_modules_do_not_import_server(path: Path) -> None:
    assert not any(n.startswith("sluice.server") for n in _imports(path))


def test_server_and_cli_do_not_load_the_framework() -> None:
    code = (
        "import sys, sluice, sluice.cli, sluice.server.runner, sluice.server.cgi\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('sluice.') and not m.startswith('sluice.server'))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    # sluice.errors holds the server's protocol errors too; sluice.requestid
    # and sluice.trust (request ids, trusted proxies) serve both sides.
    assert out.stdout.strip() == "['sluice.cli', 'sluice.config', 'sluice.errors', 'sluice.requestid', 'sluice.trust']"


def test_framework_names_load_on_first_use() -> None:
    code = (
        "import sluice\n"
        "from sluice import *\n"
        "assert App is sluice.App and request is sluice.ctx.request\n"
        "assert set(sluice.__all__) <= set(dir(sluice))\n"
        "try:\n"
        "    sluice.Nope\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "module 'sluice' has no attribute 'Nope'"
