"""Repository-wide test setup: the suites count tokens with tiktoken's real encodings (the tests
that opt in to offline counts, and those of the exact counter itself).

tiktoken downloads ``cl100k_base`` and ``o200k_base`` on first use, or reads them from
``TIKTOKEN_CACHE_DIR`` (``nox`` points it at ``../shared/tiktoken-cache`` when that folder exists).
Without either, the library falls back to its heuristic estimate, and every snapshot that pins an
exact count would fail one by one with a confusing diff; this check stops the run first, with the
reason and the remedy.
"""

from __future__ import annotations

import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        import tiktoken

        for name in ("cl100k_base", "o200k_base"):
            tiktoken.get_encoding(name)
    except Exception as exc:  # no network and no cache: the tests cannot count tokens
        pytest.exit(
            "tiktoken's encodings (cl100k_base, o200k_base) could not be loaded "
            f"({type(exc).__name__}: {exc}). The tests pin exact token counts: allow tiktoken "
            "to download them once, or set TIKTOKEN_CACHE_DIR to a folder that holds them.",
            returncode=4,
        )
