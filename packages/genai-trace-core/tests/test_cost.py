from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import genai_prices
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_trace_core import clear_prices, compute_cost, load_prices, set_price
from genai_trace_core import semconv as S
from genai_trace_core.records import Cost, Usage
from genai_trace_core.usage import _cost


@pytest.fixture(autouse=True)
def _fresh_prices(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(_cost.PRICES_FILE_ENV, raising=False)
    _cost._reset_for_tests()
    yield
    _cost._reset_for_tests()


def _genai_usage(u: Usage) -> genai_prices.Usage:
    """The same counts in genai-prices' vocabulary (its input_tokens also include cache)."""
    extra: dict[str, int] = {}
    for modality, kinds in u.modalities.items():
        for kind, key in (
            ("input_tokens", f"input_{modality}_tokens"),
            ("output_tokens", f"output_{modality}_tokens"),
            ("cache_read.input_tokens", f"cache_{modality}_read_tokens"),
        ):
            if kind in kinds:
                extra[key] = kinds[kind]
    return genai_prices.Usage(
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cache_read_tokens=u.cache_read_input_tokens,
        cache_write_tokens=u.cache_write_input_tokens,
        output_reasoning_tokens=u.reasoning_output_tokens,
        **extra,
    )


BIG = Usage(
    input_tokens=10_000,
    output_tokens=2_000,
    cache_read_input_tokens=4_000,
    cache_write_input_tokens=1_000,
    reasoning_output_tokens=500,
)

# (model, semconv provider, genai-prices provider id, usage)
AGAINST_GENAI_PRICES = [
    ("gpt-4o", S.PROVIDER_OPENAI, "openai", BIG),
    ("gpt-4o-mini", S.PROVIDER_OPENAI, "openai", BIG),
    ("gpt-4o", S.PROVIDER_AZURE_AI_OPENAI, "azure", BIG),
    ("o3-mini", S.PROVIDER_OPENAI, "openai", BIG),
    ("claude-sonnet-4-20250514", S.PROVIDER_ANTHROPIC, "anthropic", BIG),
    ("claude-3-5-sonnet-20241022", S.PROVIDER_ANTHROPIC, "anthropic", BIG),
    # tiered price: above 200k input tokens every token pays the higher rate
    (
        "claude-sonnet-4-5",
        S.PROVIDER_ANTHROPIC,
        "anthropic",
        Usage(input_tokens=250_000, output_tokens=1_000, cache_read_input_tokens=100_000),
    ),
    ("gemini-2.5-flash", S.PROVIDER_GCP_GEMINI, "google", BIG),
    (
        "gemini-2.5-flash",
        S.PROVIDER_GCP_VERTEX_AI,
        "google",
        Usage(
            input_tokens=5_000,
            output_tokens=300,
            cache_read_input_tokens=1_000,
            modalities={"audio": {"input_tokens": 2_000, "cache_read.input_tokens": 500}},
        ),
    ),
    ("text-embedding-3-small", S.PROVIDER_OPENAI, "openai", Usage(input_tokens=123_456)),
    ("us.anthropic.claude-sonnet-4-20250514-v1:0", S.PROVIDER_AWS_BEDROCK, "aws", BIG),
    ("mistral-large-latest", S.PROVIDER_MISTRAL_AI, "mistral", BIG),
    # priced reasoning tokens, and a per-request fee
    ("sonar-deep-research", S.PROVIDER_PERPLEXITY, "perplexity", BIG),
    ("sonar", S.PROVIDER_PERPLEXITY, "perplexity", BIG),
    ("gpt-4o", None, None, BIG),  # provider unknown: genai-prices matches by model name
]


@pytest.mark.parametrize(
    ("model", "provider", "prices_id", "usage"),
    AGAINST_GENAI_PRICES,
    ids=[f"{c[0]}@{c[1]}" for c in AGAINST_GENAI_PRICES],
)
def test_total_and_direction_split_match_genai_prices(
    model: str, provider: str | None, prices_id: str | None, usage: Usage
) -> None:
    expected = genai_prices.calc_price(_genai_usage(usage), model, provider_id=prices_id)
    cost = compute_cost(model, provider, usage)
    assert cost is not None
    assert cost.source == "genai-prices"
    assert cost.total_usd == pytest.approx(float(expected.total_price), rel=1e-9, abs=1e-15)
    inputs = sum(p or 0.0 for p in (cost.input_usd, cost.cache_read_usd, cost.cache_write_usd))
    outputs = (cost.output_usd or 0.0) + (cost.reasoning_usd or 0.0)
    assert inputs == pytest.approx(float(expected.input_price), rel=1e-9, abs=1e-15)
    assert outputs == pytest.approx(float(expected.output_price), rel=1e-9, abs=1e-15)


def test_gpt_4o_by_hand_from_published_prices() -> None:
    # OpenAI gpt-4o: $2.50 input, $1.25 cached input, $10.00 output per million tokens.
    # Reasoning tokens have no price of their own: they are output tokens.
    usage = Usage(
        input_tokens=10_000,
        output_tokens=2_000,
        cache_read_input_tokens=4_000,
        reasoning_output_tokens=500,
    )
    cost = compute_cost("gpt-4o", S.PROVIDER_OPENAI, usage)
    assert cost == Cost(
        total_usd=pytest.approx(0.04),  # type: ignore[arg-type]
        input_usd=pytest.approx(6_000 * 2.50 / 1e6),  # type: ignore[arg-type]
        cache_read_usd=pytest.approx(4_000 * 1.25 / 1e6),  # type: ignore[arg-type]
        output_usd=pytest.approx(2_000 * 10.00 / 1e6),  # type: ignore[arg-type]
        cache_write_usd=None,
        reasoning_usd=None,
        source="genai-prices",
    )


def test_claude_sonnet_4_by_hand_with_cache_read_and_write() -> None:
    # Anthropic Claude Sonnet 4: $3 input, $0.30 cache read, $3.75 cache write (5 min), $15 output
    # per million tokens. input_tokens includes the cache (as normalize_usage reports it).
    usage = Usage(
        input_tokens=10_000,
        output_tokens=1_000,
        cache_read_input_tokens=2_000,
        cache_write_input_tokens=1_000,
    )
    cost = compute_cost("claude-sonnet-4-20250514", S.PROVIDER_ANTHROPIC, usage)
    assert cost is not None
    parts = (cost.input_usd, cost.cache_read_usd, cost.cache_write_usd, cost.output_usd)
    assert parts == pytest.approx((7_000 * 3e-6, 2_000 * 0.3e-6, 1_000 * 3.75e-6, 1_000 * 15e-6))
    assert cost.total_usd == pytest.approx(0.021 + 0.0006 + 0.00375 + 0.015)
    assert cost.reasoning_usd is None


def test_reasoning_tokens_priced_separately_when_the_model_has_a_reasoning_price() -> None:
    # Perplexity sonar-deep-research: $2 input, $8 output, $3 reasoning per million tokens.
    usage = Usage(input_tokens=1_000, output_tokens=3_000, reasoning_output_tokens=2_000)
    cost = compute_cost("sonar-deep-research", S.PROVIDER_PERPLEXITY, usage)
    assert cost is not None
    assert (cost.input_usd, cost.output_usd, cost.reasoning_usd) == pytest.approx(
        (1_000 * 2e-6, 1_000 * 8e-6, 2_000 * 3e-6)
    )
    assert (cost.cache_read_usd, cost.cache_write_usd) == (None, None)


@settings(max_examples=150, deadline=None, derandomize=True)  # reproducible in CI
@given(
    model=st.sampled_from(
        [
            ("gpt-4o", S.PROVIDER_OPENAI, "openai"),
            ("claude-sonnet-4-5", S.PROVIDER_ANTHROPIC, "anthropic"),
            ("gemini-2.5-flash", S.PROVIDER_GCP_GEMINI, "google"),
            ("sonar-deep-research", S.PROVIDER_PERPLEXITY, "perplexity"),
        ]
    ),
    uncached=st.integers(0, 400_000),
    read=st.integers(0, 100_000),
    write=st.integers(0, 100_000),
    output=st.integers(0, 50_000),
    reasoning_share=st.floats(0, 1),
)
def test_any_consistent_usage_costs_what_genai_prices_says(
    model: tuple[str, str],
    uncached: int,
    read: int,
    write: int,
    output: int,
    reasoning_share: float,
) -> None:
    usage = Usage(
        input_tokens=uncached + read + write,
        output_tokens=output,
        cache_read_input_tokens=read,
        cache_write_input_tokens=write,
        reasoning_output_tokens=int(output * reasoning_share),
    )
    expected = genai_prices.calc_price(_genai_usage(usage), model[0], provider_id=model[2])
    cost = compute_cost(model[0], model[1], usage)
    assert cost is not None
    assert cost.total_usd == pytest.approx(float(expected.total_price), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("model", "provider", "usage"),
    [
        ("definitely-not-a-model-x1", S.PROVIDER_OPENAI, BIG),
        ("definitely-not-a-model-x1", None, BIG),
        ("gpt-4o", S.PROVIDER_OLLAMA, BIG),  # local: no price, never OpenAI's
        ("gpt-4o", "huggingface", BIG),  # a provider genai-prices does not know
        (None, S.PROVIDER_OPENAI, BIG),
        ("", S.PROVIDER_OPENAI, BIG),
        ("gpt-4o", S.PROVIDER_OPENAI, Usage()),
        # inconsistent counts: cache larger than the input it is part of
        ("gpt-4o", S.PROVIDER_OPENAI, Usage(input_tokens=10, cache_read_input_tokens=50)),
        ("gpt-4o", S.PROVIDER_OPENAI, "not a usage"),
    ],
)
def test_no_price_or_no_sensible_usage_gives_none(model: Any, provider: Any, usage: Any) -> None:
    assert compute_cost(model, provider, usage) is None


def test_unknown_model_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="genai_trace")
    for _ in range(3):
        _cost._resolved.clear()  # even if the resolution cache is dropped
        compute_cost("no-such-model-for-log-test", S.PROVIDER_OPENAI, BIG)
    messages = [
        r.getMessage() for r in caplog.records if "no-such-model-for-log-test" in r.getMessage()
    ]
    assert messages == ["genai-trace: no price for 'no-such-model-for-log-test' (openai)"]


def test_a_huge_unknown_model_is_logged_cut(caplog: pytest.LogCaptureFixture) -> None:
    """A proxy answering a 300 KB model name: the debug line (and the once-key) stay short
    (model names are looked up lower-cased)."""
    caplog.set_level(logging.DEBUG, logger="genai_trace")
    compute_cost("huge-model-\n" + "M" * 300_000, S.PROVIDER_OPENAI, BIG)
    lines = [r.getMessage() for r in caplog.records if "huge-model" in r.getMessage()]
    assert lines == [f"genai-trace: no price for {'huge-model-' + chr(10) + 'm' * 88!r} (openai)"]


def test_estimated_usage_is_priced_too() -> None:
    usage = Usage(input_tokens=1_000, output_tokens=100, source="estimated", estimator="o200k_base")
    cost = compute_cost("gpt-4o-mini", S.PROVIDER_OPENAI, usage)
    assert cost is not None
    assert cost.total_usd == pytest.approx(1_000 * 0.15e-6 + 100 * 0.6e-6)


def test_price_is_resolved_once_then_arithmetic_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str | None]] = []
    real = _cost._from_genai_prices

    def counting(model: str, provider: str | None) -> Any:
        calls.append((model, provider))
        return real(model, provider)

    monkeypatch.setattr(_cost, "_from_genai_prices", counting)
    first = compute_cost("GPT-4o", S.PROVIDER_OPENAI, BIG)
    for _ in range(5):
        assert compute_cost("GPT-4o", S.PROVIDER_OPENAI, BIG) == first
    compute_cost("no-such-model-cache", S.PROVIDER_OPENAI, BIG)
    compute_cost("no-such-model-cache", S.PROVIDER_OPENAI, BIG)
    assert calls == [("gpt-4o", "openai"), ("no-such-model-cache", "openai")]


def test_no_network_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    cost = compute_cost("claude-3-5-sonnet-20241022", S.PROVIDER_ANTHROPIC, BIG)
    assert cost is not None
    assert cost.source == "genai-prices"


# --- overrides ----------------------------------------------------------------------------------


def test_override_prices_a_private_model() -> None:
    set_price(
        "acme-ft-1",
        input_per_mtok=1.0,
        output_per_mtok=4.0,
        cache_read_per_mtok=0.5,
        cache_write_per_mtok=2.0,
    )
    cost = compute_cost("acme-ft-1", S.PROVIDER_OPENAI, BIG)
    assert cost == Cost(
        total_usd=pytest.approx(5_000e-6 + 4_000 * 0.5e-6 + 1_000 * 2e-6 + 2_000 * 4e-6),  # type: ignore[arg-type]
        input_usd=pytest.approx(5_000e-6),  # type: ignore[arg-type]
        cache_read_usd=pytest.approx(2_000e-6),  # type: ignore[arg-type]
        cache_write_usd=pytest.approx(2_000e-6),  # type: ignore[arg-type]
        output_usd=pytest.approx(8_000e-6),  # type: ignore[arg-type]
        reasoning_usd=None,
        source="override",
    )


def test_override_wins_over_genai_prices_and_clear_restores_it() -> None:
    assert compute_cost("gpt-4o", S.PROVIDER_OPENAI, BIG).source == "genai-prices"  # type: ignore[union-attr]
    set_price("gpt-4o", input_per_mtok=1.0, output_per_mtok=1.0)
    overridden = compute_cost("gpt-4o", S.PROVIDER_OPENAI, BIG)
    # without a cache-read price, cached tokens are charged as input
    assert overridden == Cost(
        total_usd=pytest.approx(12_000e-6),  # type: ignore[arg-type]
        input_usd=pytest.approx(10_000e-6),  # type: ignore[arg-type]
        output_usd=pytest.approx(2_000e-6),  # type: ignore[arg-type]
        source="override",
    )
    clear_prices()
    assert compute_cost("gpt-4o", S.PROVIDER_OPENAI, BIG).source == "genai-prices"  # type: ignore[union-attr]


def test_provider_specific_override_applies_only_to_that_provider() -> None:
    set_price("gpt-4o", input_per_mtok=0.0, output_per_mtok=0.0, provider="azure_openai")
    azure = compute_cost("gpt-4o", S.PROVIDER_AZURE_AI_OPENAI, BIG)
    openai = compute_cost("gpt-4o", S.PROVIDER_OPENAI, BIG)
    assert (azure.source, azure.total_usd) == ("override", 0.0)  # type: ignore[union-attr]
    assert openai.source == "genai-prices"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_per_mtok": -1.0, "output_per_mtok": 1.0},
        {"input_per_mtok": float("nan"), "output_per_mtok": 1.0},
        {"input_per_mtok": "1", "output_per_mtok": 1.0},
        {"input_per_mtok": 1.0, "output_per_mtok": None},
        {"input_per_mtok": 1.0, "output_per_mtok": 1.0, "cache_read_per_mtok": -2},
    ],
)
def test_set_price_rejects_invalid_prices(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        set_price("acme", **kwargs)


PRICE_FILE_SHAPES = [
    [{"model": "acme-1", "input_per_mtok": 2, "output_per_mtok": 6}],
    {"models": [{"model": "acme-1", "input_per_mtok": 2, "output_per_mtok": 6}]},
    {"acme-1": {"input_per_mtok": 2, "output_per_mtok": 6}},
]


@pytest.mark.parametrize("data", PRICE_FILE_SHAPES, ids=["list", "models-key", "by-model"])
def test_load_prices_from_a_json_file(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    assert load_prices(path) == 1
    cost = compute_cost("acme-1", None, Usage(input_tokens=1_000_000, output_tokens=1_000_000))
    assert (cost.total_usd, cost.source) == (pytest.approx(8.0), "override")  # type: ignore[union-attr]


def test_load_prices_skips_bad_entries_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            [
                {"model": "ok-1", "input_per_mtok": 1, "output_per_mtok": 1},
                {"model": "bad-1", "input_per_mtok": -1, "output_per_mtok": 1},
                {"input_per_mtok": 1, "output_per_mtok": 1},
                "junk",
            ]
        )
    )
    assert load_prices(path) == 1
    assert load_prices(tmp_path / "missing.json") == 0
    (tmp_path / "broken.json").write_text("{not json")
    assert load_prices(tmp_path / "broken.json") == 0
    assert load_prices({"models": "nope"}) == 0
    assert compute_cost("bad-1", None, BIG) is None
    assert sum("cannot load prices" in r.getMessage() for r in caplog.records) == 2


def test_prices_file_env_is_read_once_lazily(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"env-model": {"input_per_mtok": 1, "output_per_mtok": 1}}))
    monkeypatch.setenv(_cost.PRICES_FILE_ENV, str(path))
    assert _cost._overrides == {}  # nothing read before the first cost
    usage = Usage(input_tokens=500_000, output_tokens=500_000)
    assert compute_cost("env-model", None, usage).total_usd == pytest.approx(1.0)  # type: ignore[union-attr]
    path.write_text(json.dumps({"env-model": {"input_per_mtok": 9, "output_per_mtok": 9}}))
    _cost._resolved.clear()
    assert compute_cost("env-model", None, usage).total_usd == pytest.approx(1.0)  # type: ignore[union-attr]


def test_a_failing_price_table_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(model: str, provider: str | None) -> Any:
        raise RuntimeError("corrupt table")

    monkeypatch.setattr(_cost, "_from_genai_prices", broken)
    assert compute_cost("gpt-4o", S.PROVIDER_OPENAI, BIG) is None
