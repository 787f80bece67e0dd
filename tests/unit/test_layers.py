"""core never imports textual, cv2, pyzbar, kiosk or screens (design.md; style.md 1).

Checked two ways: statically (every import statement in core/) and dynamically (importing all of
core in a fresh interpreter loads none of them).
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

FORBIDDEN = ("textual", "cv2", "pyzbar", "kiosk", "screens")
ROOT = Path(core.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_source_has_no_forbidden_import() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & set(FORBIDDEN)) for p in ROOT.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_core_loads_no_ui_or_camera() -> None:
    modules = [m.name for m in pkgutil.walk_packages([str(ROOT)], prefix="core.")]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_linter_contracts_hold() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe)], capture_output=True, text=True, cwd=ROOT.parent)
    assert result.returncode == 0, result.stdout + result.stderr
