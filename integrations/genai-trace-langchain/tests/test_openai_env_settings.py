"""Settings a user sets in the environment, seen through the real client: langchain-openai's
``ChatOpenAI`` over ``httpx.MockTransport`` answering as OpenAI does, with a dated response model
(``gpt-4o-mini-2024-07-18`` for a request of ``gpt-4o-mini``).

- ``GENAI_TRACE_PRICES_FILE``: an override keyed by the requested model prices the call too.
- ``OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT``: read as opentelemetry-util-genai reads it (``true``
  emits the inference-details event in any capture mode, without content the mode keeps off
  events; ``false`` never; anything else follows the mode, with one warning).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.prompts import ChatPromptTemplate
from openai_clients import CHAT_MODEL, RESPONSE_MODEL, chat_model, expected_cost
from openai_wire import OpenAIWire, chat_completion, usage

from genai_trace_core import Usage, semconv, set_settings
from genai_trace_core.testing import OTelHarness
from genai_trace_core.usage import _cost  # internal: the price file is read once per process
from genai_trace_langchain import LangChainInstrumentor

pytest.importorskip("langchain_openai")

DETAILS = semconv.EVENT_INFERENCE_DETAILS
CONTENT_KEYS = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
)
PROMPT_VARIABLE = semconv.GEN_AI_PROMPT_VARIABLE_PREFIX


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test is a program started with its own environment: settings and prices re-read."""
    for name in (
        _cost.PRICES_FILE_ENV,
        semconv.ENV_CAPTURE_MESSAGE_CONTENT,
        semconv.ENV_EMIT_EVENT,
    ):
        monkeypatch.delenv(name, raising=False)
    set_settings(None)
    _cost._reset_for_tests()
    yield
    set_settings(None)
    _cost._reset_for_tests()


def _ask(otel: OTelHarness, clients: Any) -> dict[str, Any]:
    """One templated question to the real ``ChatOpenAI``, instrumented with the environment's
    settings; the chat span's attributes."""
    wire = OpenAIWire(
        chat_completion(
            response_id="chatcmpl-env-1",
            model=RESPONSE_MODEL,
            content="It ships in 2 days.",
            token_usage=usage(1000, 1000),
        )
    )
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("user", "{question}")])
    with otel.instrumented(LangChainInstrumentor()):
        (prompt | chat_model(wire, clients)).invoke({"question": "Where is my parcel?"})
    [chat] = [s for s in otel.span_dicts() if s["name"] == f"chat {CHAT_MODEL}"]
    attrs: dict[str, Any] = chat["attributes"]
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == RESPONSE_MODEL
    return attrs


def _details(otel: OTelHarness) -> list[dict[str, Any]]:
    return [dict(r.attributes or {}) for r in otel.logs() if r.event_name == DETAILS]


# --- GENAI_TRACE_PRICES_FILE ----------------------------------------------------------------------


def test_a_price_file_override_of_the_requested_model_prices_a_dated_answer(
    otel: OTelHarness, clients: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested = {"input_per_mtok": 100.0, "output_per_mtok": 200.0}
    answered = {"input_per_mtok": 1.0, "output_per_mtok": 2.0}
    genai_prices = expected_cost(RESPONSE_MODEL, Usage(input_tokens=1000, output_tokens=1000))
    scenarios = [  # the price file, then the cost's source and USD
        ({CHAT_MODEL: requested}, "override", 1000 * 100e-6 + 1000 * 200e-6),
        # the response model's override comes first
        ({CHAT_MODEL: requested, RESPONSE_MODEL: answered}, "override", 1000 * 1e-6 + 1000 * 2e-6),
        # an override for neither model: genai-prices' price of the response model
        ({"my-fine-tune": requested}, "genai-prices", genai_prices.total_usd),
    ]
    for i, (prices, source, usd) in enumerate(scenarios):
        path = tmp_path / f"prices{i}.json"
        path.write_text(json.dumps(prices), encoding="utf-8")
        monkeypatch.setenv(_cost.PRICES_FILE_ENV, str(path))
        _cost._reset_for_tests()  # a new program: the file is read once per process
        otel.clear()

        attrs = _ask(otel, clients)

        assert (attrs[semconv.COST_SOURCE], attrs[semconv.COST_USD]) == (source, pytest.approx(usd))


# --- OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT --------------------------------------------------------


def test_emit_event_true_emits_the_event_in_any_mode_with_content_only_where_the_mode_allows(
    otel: OTelHarness, clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(semconv.ENV_EMIT_EVENT, "True")
    for mode in ("SPAN_ONLY", "NO_CONTENT", "EVENT_ONLY"):
        monkeypatch.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, mode)
        set_settings(None)  # a new program: settings are read when instrumentation starts
        otel.clear()

        span = _ask(otel, clients)

        [event] = _details(otel)
        assert event[semconv.GEN_AI_RESPONSE_MODEL] == RESPONSE_MODEL
        assert event[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 1000
        assert event[semconv.COST_USD] == span[semconv.COST_USD]
        if mode == "EVENT_ONLY":  # content on the event, none on the span
            assert semconv.GEN_AI_INPUT_MESSAGES not in span
            assert "parcel" in json.dumps(event[semconv.GEN_AI_INPUT_MESSAGES])
            assert "ships" in json.dumps(event[semconv.GEN_AI_OUTPUT_MESSAGES])
            continue
        exported = json.dumps(event, default=str)
        assert "parcel" not in exported and "ships" not in exported, mode
        assert not [k for k in event if k in CONTENT_KEYS or k.startswith(PROMPT_VARIABLE)]
        if mode == "SPAN_ONLY":  # the content is captured, on the span only
            assert "parcel" in json.dumps(span[semconv.GEN_AI_INPUT_MESSAGES])
            assert span[PROMPT_VARIABLE + "question"] == "Where is my parcel?"


def test_emit_event_false_never_emits_it_and_an_invalid_value_follows_the_mode_warned_once(
    otel: OTelHarness,
    clients: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, "SPAN_AND_EVENT")
    monkeypatch.setenv(semconv.ENV_EMIT_EVENT, "FALSE")
    _ask(otel, clients)
    assert _details(otel) == []

    monkeypatch.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, "EVENT_ONLY")
    monkeypatch.setenv(semconv.ENV_EMIT_EVENT, "maybe")
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        for _ in range(2):  # two programs' starts, one warning
            set_settings(None)
            otel.clear()
            _ask(otel, clients)
            assert len(_details(otel)) == 1  # EVENT_ONLY's default: the event

    warned = [r for r in caplog.records if semconv.ENV_EMIT_EVENT in r.getMessage()]
    assert len(warned) == 1
    assert warned[0].levelno == logging.WARNING
    assert warned[0].name.startswith("genai_trace")
    assert "'maybe'" in warned[0].getMessage()
