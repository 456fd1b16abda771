from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genai_trace_core.records import Usage
from genai_trace_core.usage import (
    _tokens,
    count_tokens,
    encoding_for_model,
    estimate_tokens,
    estimate_usage,
)

CACHE = "/work/shared/tiktoken-cache"

# Expected counts, with provenance. "tiktoken is great!" is the OpenAI cookbook example ("How to
# count tokens with tiktoken"): cl100k_base -> [83, 1609, 5963, 374, 2294, 0] and o200k_base ->
# [83, 8251, 2488, 382, 2212, 0], 6 tokens each. "hello world" is 2 tokens in both (cl100k ids
# [15339, 1917]; o200k [24912, 2375], the check in /work/shared/tiktoken-cache/README.md). The
# Japanese text was decoded token by token once to check the split: cl100k_base gives 8 tokens
# (日 | 本 | 語 as two byte pieces | の | テ | キ | スト),
# o200k_base 6 (日本 | 語 | の | テ | キ | スト).
JAPANESE = "日本語のテキスト"


def _python(script: str, env: dict[str, str]) -> str:
    """The standard output of ``script`` run by a fresh interpreter (which must succeed)."""
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(autouse=True)
def _offline_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", CACHE)
    _tokens._reset_for_tests()
    yield
    _tokens._reset_for_tests()


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("chatgpt-4o-latest", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-5-mini", "o200k_base"),
        ("o1", "o200k_base"),
        ("o1-mini", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("openai/gpt-4o", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("text-embedding-ada-002", "cl100k_base"),
        ("claude-3-5-sonnet", "cl100k_base"),
        ("ollama3", "cl100k_base"),
        (None, "cl100k_base"),
    ],
)
def test_model_family_selects_the_encoding(model: str | None, encoding: str) -> None:
    assert encoding_for_model(model) == encoding


@pytest.mark.parametrize(
    ("model", "texts", "expected"),
    [
        ("gpt-4", ["tiktoken is great!"], (6, "cl100k_base")),
        ("gpt-4o", ["tiktoken is great!"], (6, "o200k_base")),
        ("gpt-3.5-turbo", ["hello world"], (2, "cl100k_base")),
        ("o3-mini", ["hello world"], (2, "o200k_base")),
        ("gpt-4", [JAPANESE], (8, "cl100k_base")),
        ("gpt-4o", [JAPANESE], (6, "o200k_base")),
        ("gpt-4o", ["hello world", JAPANESE, ""], (8, "o200k_base")),
        ("unknown-model", ["tiktoken is great!", "hello world"], (8, "cl100k_base")),
    ],
)
def test_counts_match_known_token_ids(
    model: str, texts: list[str], expected: tuple[int, str]
) -> None:
    assert count_tokens(texts, model) == expected


def test_special_token_text_is_counted_as_ordinary_text() -> None:
    count, encoding = count_tokens(["<|endoftext|>"], "gpt-4")
    # As the special token it would be one id (100257); as text it is several pieces.
    assert (count > 1, encoding) == (True, "cl100k_base")


def test_estimate_usage_is_flagged_estimated_with_its_encoding() -> None:
    assert estimate_usage("gpt-4o", ["hello world"], [JAPANESE]) == Usage(
        input_tokens=2, output_tokens=6, source="estimated", estimator="o200k_base"
    )
    assert estimate_usage("text-embedding-3-small", ["hello world", "hello world"]) == Usage(
        input_tokens=4, source="estimated", estimator="cl100k_base"
    )


def test_encoding_is_loaded_once_and_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = _tokens._load

    def counting(name: str) -> Any:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(_tokens, "_loader", counting)
    for _ in range(3):
        count_tokens(["hello world"], "gpt-4o")
        count_tokens(["hello world"], "gpt-4")
    assert calls == ["o200k_base", "cl100k_base"]


def test_load_failure_falls_back_to_heuristic_and_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def failing(name: str) -> Any:
        calls.append(name)
        raise OSError("no network")

    monkeypatch.setattr(_tokens, "_loader", failing)
    # ceil(11 / 4) = 3 and ceil(8 / 4) = 2 (characters, not bytes)
    assert count_tokens(["hello world", JAPANESE], "gpt-4o") == (5, "heuristic")
    assert count_tokens(["abcd", "abcde", ""], "gpt-4o") == (3, "heuristic")
    assert estimate_usage("gpt-4o", ["hello world"], ["abc"]) == Usage(
        input_tokens=3, output_tokens=1, source="estimated", estimator="heuristic"
    )
    assert calls == ["o200k_base"]


def test_encoder_error_falls_back_to_heuristic(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def encode_ordinary(self, text: str) -> list[int]:
            raise ValueError("bad")

    monkeypatch.setattr(_tokens, "_loader", lambda name: Broken())
    assert count_tokens(["hello world"], "gpt-4") == (3, "heuristic")


def test_an_estimate_encodes_a_bounded_number_of_characters_and_extrapolates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded: list[int] = []

    class PerFourChars:  # one token per 4 characters, recording what it was asked to read
        def encode_ordinary(self, text: str) -> list[int]:
            encoded.append(len(text))
            return [0] * (len(text) // 4)

    _tokens._reset_for_tests()
    monkeypatch.setattr(_tokens, "_loader", lambda name: PerFourChars())
    ten_mb = "abcd" * 2_500_000
    count, estimator = count_tokens(["abcd" * 10, ten_mb, "efgh" * 1000], "gpt-4")
    assert sum(encoded) == _tokens.MAX_ENCODED_CHARS  # not 10 MB
    assert (count, estimator) == (10 + 2_500_000 + 1000, "cl100k_base")  # exact for this text
    encoded.clear()
    assert count_tokens(["abcd" * 100], "gpt-4") == (100, "cl100k_base")  # short: all read
    assert encoded == [400]
    usage = estimate_usage("gpt-4", [ten_mb])
    assert (usage.input_tokens, usage.source) == (2_500_000, "estimated")


def test_a_10_mb_prompt_is_estimated_in_milliseconds_with_the_real_encoding() -> None:
    import time

    prompt = "lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 180_000
    count_tokens(["warm up"], "gpt-4o")  # load the encoding outside the measurement
    t0 = time.perf_counter()
    count, estimator = count_tokens([prompt], "gpt-4o")
    elapsed = time.perf_counter() - t0
    assert estimator == "o200k_base"
    assert elapsed < 0.25  # reading all of it takes seconds
    exact = count_tokens([prompt[: 57 * 200]], "gpt-4o")[0] * 900  # 200 sentences, read fully
    assert abs(count - exact) / exact < 0.02


def test_non_string_items_are_skipped() -> None:
    assert count_tokens(["hello world", None, 5, b"x"], "gpt-4") == (2, "cl100k_base")  # type: ignore[list-item]


def test_nothing_is_loaded_at_import_and_tiktoken_cache_dir_is_never_set(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, sys
        import genai_trace_core.usage._tokens as t  # internal: its encoder cache starts empty
        import genai_trace_core.usage  # the whole wing: normalise, cost, providers
        assert "tiktoken" not in sys.modules, "tiktoken imported at import time"
        assert "genai_prices" not in sys.modules, "genai_prices imported at import time"
        assert t._encodings == {}
        print(t.count_tokens(["hello world", "tiktoken is great!"], "gpt-4o"))
        assert "TIKTOKEN_CACHE_DIR" not in os.environ
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    # An empty cache and an unreachable proxy: tiktoken cannot download and fails fast.
    env |= {
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "DATA_GYM_CACHE_DIR": str(tmp_path / "empty"),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    out = _python(script, env)
    # ceil(11/4) + ceil(18/4) = 3 + 5
    assert out.strip() == "(8, 'heuristic')"


def test_no_tokenizer_work_when_the_provider_reported_usage(
    otel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The texts to estimate from are not even read, and no encoding is loaded, when the provider
    reported usage; without it the same run is estimated."""
    from genai_trace_core import Operation, OperationKind, Outcome

    loaded: list[str] = []
    read: list[str] = []
    monkeypatch.setattr(_tokens, "_loader", lambda name: loaded.append(name) or _tokens._load(name))

    def texts() -> list[str]:
        read.append("input")
        return ["hello world"]

    t = otel.telemetry(estimate_usage=True)  # offline counts exported as gen_ai.usage.*
    for run_id, usage in (
        ("reported", {"prompt_tokens": 7, "completion_tokens": 3}),
        ("none", None),
    ):
        op = Operation(
            OperationKind.CHAT, provider="openai", request_model="gpt-4", estimate_input=texts
        )
        t.start(run_id, op)
        t.end(run_id, Outcome(raw_usage=usage, estimate_output=lambda: ["hi"]))
        if run_id == "reported":
            assert (loaded, read) == ([], [])
    assert (loaded, read) == (["cl100k_base"], ["input"])
    reported, estimated = (s.attributes or {} for s in otel.spans())
    assert (reported["gen_ai.usage.input_tokens"], reported["genai_trace.usage.source"]) == (
        7,
        "provider",
    )
    assert (estimated["gen_ai.usage.input_tokens"], estimated["genai_trace.usage.source"]) == (
        2,
        "estimated",
    )


def test_the_cheap_estimate_is_a_quarter_of_the_characters_and_loads_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[str] = []
    monkeypatch.setattr(_tokens, "_loader", lambda name: loaded.append(name) or _tokens._load(name))
    # ceil(11 / 4) + ceil(8 / 4) (characters, not bytes) + 0; non-strings skipped
    assert estimate_tokens(["hello world", JAPANESE, "", None]) == 5  # type: ignore[list-item]
    assert estimate_usage("gpt-4o", ["hello world"], ["abcde"], exact=False) == Usage(
        input_tokens=3, output_tokens=2, source="estimated", estimator="heuristic"
    )
    assert estimate_usage("text-embedding-3-small", ["abcd"] * 3, exact=False) == Usage(
        input_tokens=3, source="estimated", estimator="heuristic"
    )
    assert loaded == []
    # the exact counter keeps its meaning
    assert estimate_usage("gpt-4o", ["hello world"]).estimator == "o200k_base"
    assert loaded == ["o200k_base"]


def test_by_default_an_unreported_usage_is_estimated_without_importing_tiktoken() -> None:
    """A whole run ended through Telemetry in a fresh process: the estimate prices the call under
    genai_trace.usage.estimated.*, and tiktoken is never imported (no load, no encode)."""
    script = textwrap.dedent(
        """
        import sys
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from genai_trace_core import Operation, OperationKind, Outcome, Telemetry

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        t = Telemetry(tracer_provider=provider)
        op = Operation(
            OperationKind.EMBEDDINGS, provider="openai", request_model="text-embedding-3-small",
            estimate_input=lambda: ["hello world", "tiktoken is great!"],
        )
        t.start("e", op)
        t.end("e", Outcome(embedding_dimension=8, embedding_input_count=2))
        a = exporter.get_finished_spans()[0].attributes
        print(a["genai_trace.usage.estimated.input_tokens"], a["genai_trace.usage.estimator"],
              a["genai_trace.cost.usd"] > 0, "tiktoken" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "GENAI_TRACE_ESTIMATE_USAGE"}
    out = _python(script, env)
    assert out.split() == ["8", "heuristic", "True", "False"]  # ceil(11/4) + ceil(18/4)
