"""The core is pure: no clock, randomness, ids from nowhere, floats or I/O (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "reclaim" / "core"
BANNED_MODULES = {"random", "time", "uuid", "secrets", "os", "socket", "sqlite3", "threading"}
BANNED_CALLS = {"now", "utcnow", "today", "uuid4", "float", "open", "print", "input"}


def _core_files() -> list[Path]:
    files = sorted(CORE.rglob("*.py"))
    assert files, f"no core files under {CORE}"
    return files


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in BANNED_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in BANNED_MODULES:
                found.append(node.module)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in BANNED_CALLS:
                found.append(f"{name}() at line {node.lineno}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, float):
            found.append(f"float literal {node.value} at line {node.lineno}")
    assert found == [], f"{path.name} is not pure: {found}"


def test_the_purity_check_catches_a_clock() -> None:
    tree = ast.parse("import datetime\nx = datetime.datetime.now()\n")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert isinstance(calls[0].func, ast.Attribute)
    assert calls[0].func.attr in BANNED_CALLS
