"""One inference span per model call; usage summed over a trace equals the true usage
(scenarios 4, 5 and 8)."""

from __future__ import annotations

from typing import Any

import pytest
from li_support import Instrument
from llama_index.core import VectorStoreIndex
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata
from llama_index.core.llms import ChatMessage, CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.prompts import PromptTemplate

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
from genai_trace_core.usage import _tokens  # internal: the tokenizer's one door
from genai_trace_llamaindex.testing import DeterministicLLM

USAGE_KEYS = (
    s.GEN_AI_USAGE_INPUT_TOKENS,
    s.GEN_AI_USAGE_OUTPUT_TOKENS,
    s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    s.COST_USD,
)


class UsageLLM(CustomLLM):
    """A CustomLLM: ``chat`` -> ``complete``; each model call costs 11 in / 5 out tokens."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="gpt-4o-mini")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        raw = {
            "id": "cmpl-1",
            "model": "gpt-4o-mini",
            "usage": {"prompt_tokens": 11, "completion_tokens": 5},
        }
        return CompletionResponse(text="five words of output here", raw=raw)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError


def _totals(otel: OTelHarness) -> dict[str, float]:
    totals: dict[str, float] = {}
    for span in otel.span_dicts():
        for key in USAGE_KEYS:
            if key in span["attributes"]:
                totals[key] = totals.get(key, 0) + span["attributes"][key]
    return totals


@pytest.mark.parametrize("call", ["chat", "complete", "predict"])
def test_custom_llm_wrappers_count_each_model_call_once(
    otel: OTelHarness, instrument: Instrument, call: str
) -> None:
    instrument()
    llm = UsageLLM()
    if call == "chat":
        llm.chat([ChatMessage(role="user", content="hi")])
    elif call == "complete":
        llm.complete("hi")
    else:
        llm.predict(PromptTemplate("say {x}"), x="hi")

    inference = [d for d in otel.span_dicts() if d["attributes"].get(s.GEN_AI_OPERATION_NAME)]
    assert len(inference) == 1
    totals = _totals(otel)
    assert totals[s.GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert totals[s.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert totals[s.COST_USD] == pytest.approx(inference[0]["attributes"][s.COST_USD])


def test_stream_chat_with_usage_only_in_final_chunk_records_it_once(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument()
    llm = DeterministicLLM(answer="one two three four", cached_tokens=2)
    messages = [ChatMessage(role="user", content="count to four")]
    chunks = list(llm.stream_chat(messages))
    expected = chunks[-1].raw["usage"]

    (span,) = otel.span_dicts()
    attrs = span["attributes"]
    assert span["name"] == "chat gpt-4o-mini"
    assert (attrs[s.GEN_AI_USAGE_INPUT_TOKENS], attrs[s.GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        expected["prompt_tokens"],
        expected["completion_tokens"],
    )
    assert attrs[s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert attrs[s.USAGE_SOURCE] == "provider"
    assert attrs[s.GEN_AI_REQUEST_STREAM] is True
    assert s.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in attrs


async def test_astream_chat_records_usage_once_and_ends_at_last_chunk(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument()
    llm = DeterministicLLM(answer="alpha beta")
    stream = await llm.astream_chat([ChatMessage(role="user", content="go")])
    assert otel.span_dicts() == []  # still open: the stream is not consumed yet
    chunks = [chunk async for chunk in stream]
    last = chunks[-1]
    (span,) = otel.span_dicts()
    assert (
        span["attributes"][s.GEN_AI_USAGE_OUTPUT_TOKENS] == last.raw["usage"]["completion_tokens"]
    )


def test_failing_llm_marks_its_span_error_and_the_next_call_is_a_fresh_root(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrumentor = instrument()
    failing = DeterministicLLM(fail_with=TimeoutError("provider timed out"))
    with pytest.raises(TimeoutError):
        failing.chat([ChatMessage(role="user", content="hi")])
    DeterministicLLM().chat([ChatMessage(role="user", content="again")])

    first, second = otel.span_dicts()
    assert (first["status"], first["attributes"][s.ERROR_TYPE]) == ("ERROR", "TimeoutError")
    assert second["status"] == "UNSET" and second["parent_id"] is None
    assert first["trace_id"] != second["trace_id"]
    assert instrumentor._handlers[0].bridge.telemetry.open_count() == 0  # type: ignore[index]


@pytest.mark.parametrize("offline_counts", [False, True], ids=["default", "opt-in"])
def test_a_query_tokenizes_only_the_unreported_embedding_and_only_on_opt_in(
    otel: OTelHarness,
    instrument: Instrument,
    index: VectorStoreIndex,
    monkeypatch: pytest.MonkeyPatch,
    offline_counts: bool,
) -> None:
    """Issue 14, target 3: the chat reports usage (nothing tokenized); the query embedding does
    not (LlamaIndex drops it): ceil(chars / 4) by default, tiktoken only when opted in."""
    encoded: list[int] = []

    def load(name: str) -> Any:
        real = _tokens._load(name)

        class Recording:
            def encode_ordinary(self, text: str) -> list[int]:
                encoded.append(len(text))
                return list(real.encode_ordinary(text))

        return Recording()

    _tokens._reset_for_tests()
    monkeypatch.setattr(_tokens, "_loader", load)
    instrument(estimate_usage=offline_counts)
    index.as_query_engine(similarity_top_k=2).query("What is the capital of France?")
    _tokens._reset_for_tests()

    attrs = {sp["name"]: sp["attributes"] for sp in otel.span_dicts()}
    assert attrs["chat gpt-4o-mini"][s.USAGE_SOURCE] == "provider"
    emb = attrs["embeddings text-embedding-3-small"]
    if offline_counts:
        assert encoded == [30]  # the query, once
        assert (emb[s.GEN_AI_USAGE_INPUT_TOKENS], emb[s.USAGE_ESTIMATOR]) == (7, "cl100k_base")
    else:
        assert encoded == []
        assert (emb[s.USAGE_ESTIMATED_INPUT_TOKENS], emb[s.USAGE_ESTIMATOR]) == (8, "heuristic")
