"""Real LlamaIndex ``OpenAI`` and ``OpenAIEmbedding`` clients over OpenAI's wire format, content
capture off and on: every span, metric and log record must conform."""

from __future__ import annotations

import pytest
from conformance_check import check_logs, check_metrics, check_span, metric_points
from li_openai_wire import openai_clients

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.testing import OTelHarness

pytest.importorskip("llama_index.llms.openai")
from llama_index.core.llms import ChatMessage

from genai_trace_llamaindex import LlamaIndexInstrumentor


# Known violations until the LlamaIndex source (another helper's, being refactored) takes
# /work/c15-llamaindex.patch (server.port from the scheme) and gives streamed chats their finish
# reasons (gen_ai.response.finish_reasons, per-message finish_reason). Strict: a pass fails.
@pytest.mark.xfail(strict=True, reason="LlamaIndex: server.port, streamed finish reasons")
@pytest.mark.parametrize("mode", ["NO_CONTENT", "SPAN_AND_EVENT"])
def test_chat_stream_and_embeddings(otel: OTelHarness, mode: str) -> None:
    llm, embed = openai_clients()
    with otel.instrumented(
        LlamaIndexInstrumentor(), settings=Settings(capture_mode=CaptureMode(mode))
    ):
        llm.chat([ChatMessage(role="user", content="Capital of France?")])
        llm.additional_kwargs = {"stream_options": {"include_usage": True}}
        assert "".join(
            r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content="Hi")])
        )
        assert len(embed.get_text_embedding("Paris")) == 16
    spans = otel.spans()
    assert {s.name for s in spans} >= {"chat gpt-4o-mini", "embeddings text-embedding-3-small"}
    capture = mode != "NO_CONTENT"
    violations = [v for s in spans for v in check_span(s, spans, capture)]
    violations += check_metrics(metric_points(otel.metric_reader))
    violations += check_logs(otel.logs(), spans, capture)
    assert violations == []
