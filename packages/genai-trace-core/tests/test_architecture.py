"""What import-linter cannot say: only ``export`` (and the test plugin) import the OpenTelemetry
SDK at run time. The other rules are import-linter contracts (pyproject.toml), run by lint."""

from __future__ import annotations

import ast
from pathlib import Path

import genai_trace_core

CORE = Path(genai_trace_core.__file__).parent
ROOT = CORE.parents[3]
SDK_ALLOWED = ("export", "testing")
SOURCES = [
    *CORE.rglob("*.py"),
    *(ROOT / "integrations").glob("*/src/**/*.py"),
]


def _runtime_imports(path: Path) -> list[str]:
    """Modules a file imports outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(), str(path))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    out: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append(node.module)
    return out


def _sdk_importers() -> list[str]:
    found = []
    for path in SOURCES:
        rel = path.relative_to(CORE).parts if CORE in path.parents else ("integration",)
        if rel[0] in SDK_ALLOWED:
            continue
        found += [
            f"{path.name}: {m}"
            for m in _runtime_imports(path)
            if m == "opentelemetry.sdk" or m.startswith("opentelemetry.sdk.")
        ]
    return found


def test_only_export_and_testing_import_the_sdk() -> None:
    assert len(SOURCES) > 60  # the scan sees core and both integrations
    assert _sdk_importers() == []


def test_the_scan_finds_a_runtime_sdk_import_and_ignores_type_checking_ones(
    tmp_path: Path,
) -> None:
    f = tmp_path / "m.py"
    f.write_text(
        "from typing import TYPE_CHECKING\n"
        "import opentelemetry.sdk.trace\n"
        "if TYPE_CHECKING:\n"
        "    from opentelemetry.sdk.metrics import MeterProvider\n"
    )
    assert _runtime_imports(f) == ["typing", "opentelemetry.sdk.trace"]
