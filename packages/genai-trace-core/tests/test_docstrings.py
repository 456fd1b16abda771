"""Docstrings a reader relies on: every public class in core's source has one, and every field of
the record types (what integrations fill in) has its own, a string right after the field as in
pydantic-ai's ``usage.py``. Read from the source with ``ast``: nothing is run."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import genai_trace_core
from genai_trace_core import records

CORE = Path(genai_trace_core.__file__).parent
SOURCES = sorted(CORE.rglob("*.py"))
# The files that define the record types records.py exports (some live in private modules).
RECORD_FILES = sorted(
    {
        Path(str(sys.modules[obj.__module__].__file__))
        for obj in (getattr(records, name) for name in records.__all__)
        if isinstance(obj, type) and dataclasses.is_dataclass(obj)
    }
)


def _is_dataclass(node: ast.ClassDef) -> bool:
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if ast.unparse(target) in ("dataclass", "dataclasses.dataclass"):
            return True
    return False


def classes_without_docstring(path: Path) -> list[str]:
    """``file:Class`` for every public class (at any depth) with no docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        f"{path.name}:{node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")
        and ast.get_docstring(node) is None
    ]


def fields_without_docstring(path: Path) -> list[str]:
    """``file:Class.field`` for every dataclass field not followed by a string literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    missing: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ClassDef) and _is_dataclass(node)):
            continue
        body = node.body
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            after = body[i + 1] if i + 1 < len(body) else None
            documented = (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            )
            if not documented:
                missing.append(f"{path.name}:{node.name}.{stmt.target.id}")
    return missing


def test_every_public_class_in_core_has_a_docstring() -> None:
    assert len(SOURCES) > 60  # the scan sees every wing
    assert [c for path in SOURCES for c in classes_without_docstring(path)] == []


def test_every_field_of_the_record_types_has_a_docstring() -> None:
    names = {p.name for p in RECORD_FILES}
    assert "records.py" in names and len(names) >= 3  # records.py and what it re-exports
    assert [f for path in RECORD_FILES for f in fields_without_docstring(path)] == []


def test_the_scans_name_what_has_no_docstring(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "from dataclasses import dataclass\n"
        "@dataclass(slots=True)\n"
        "class Rec:\n"
        '    """A record."""\n'
        "    a: int\n"
        '    """Documented."""\n'
        "    b: int = 0\n"
        "    c: str = ''\n"
        '    """Documented too."""\n'
        "class Bare:\n"
        "    class Inner:\n"
        "        pass\n"
        "class _Private:\n"
        "    pass\n"
    )
    assert fields_without_docstring(src) == ["m.py:Rec.b"]
    assert classes_without_docstring(src) == ["m.py:Bare", "m.py:Inner"]
