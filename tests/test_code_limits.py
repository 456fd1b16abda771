"""Small modules, enforced: no library module over 300 lines, no test file over 400 (helpers in a
test folder count as tests). A module that grows past its limit is split by concern, not exempted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [*ROOT.glob("packages/*"), *ROOT.glob("integrations/*")]
LIBRARY_MAX = 300
TEST_MAX = 400


def _python_files(folders: list[Path]) -> list[Path]:
    return sorted(
        p for folder in folders for p in folder.rglob("*.py") if "__pycache__" not in p.parts
    )


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _over(files: list[Path], limit: int, root: Path = ROOT) -> list[str]:
    return [
        f"{p.relative_to(root)}: {n} lines (limit {limit})"
        for p in files
        if (n := _lines(p)) > limit
    ]


LIBRARY = _python_files([p / "src" for p in PACKAGES])
TESTS = _python_files([*(p / "tests" for p in PACKAGES), ROOT / "tests"])


@pytest.mark.parametrize(
    ("files", "limit", "least"), [(LIBRARY, LIBRARY_MAX, 100), (TESTS, TEST_MAX, 100)]
)
def test_no_module_is_over_its_line_limit(files: list[Path], limit: int, least: int) -> None:
    assert len(files) > least  # the scan sees the source tree (an editable or source checkout)
    assert _over(files, limit) == []


def test_a_module_over_the_limit_is_named_with_its_length(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 301)
    small = tmp_path / "small.py"
    small.write_text("x = 1\n" * 300)
    assert _over([big, small], LIBRARY_MAX, tmp_path) == ["big.py: 301 lines (limit 300)"]
