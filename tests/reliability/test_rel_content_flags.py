"""``genai_trace.content.truncated`` is on the record whose content was cut, in every capture
mode: the span in the span modes, the inference-details event in the event modes. In
``EVENT_ONLY`` it used to be on the span (which carries no content) and never on the event, and
a retrieval span was flagged for document text it does not export (only ids and scores)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

LONG = "Tell me about the fjords of Norway. " * 10  # 360 characters, the limit is 64
FLAG = semconv.CONTENT_TRUNCATED


class LongDocuments(BaseRetriever):
    """Documents with long text and short ids."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [Document(LONG, id="doc-1"), Document(LONG, id="doc-2")]


def _handler(otel: OTelHarness, mode: str) -> OpenTelemetryCallbackHandler:
    telemetry = otel.telemetry(capture_mode=mode, max_attribute_length=64)
    return OpenTelemetryCallbackHandler(telemetry=telemetry)


def _details(otel: OTelHarness) -> list[dict[str, Any]]:
    return [
        dict(r.attributes or {})
        for r in otel.logs()
        if r.event_name == semconv.EVENT_INFERENCE_DETAILS
    ]


@pytest.mark.parametrize(
    ("mode", "on_span", "on_event"),
    [
        ("SPAN_ONLY", True, None),
        ("EVENT_ONLY", False, True),
        ("SPAN_AND_EVENT", True, True),
    ],
)
def test_a_cut_prompt_is_flagged_on_the_record_that_carries_it(
    otel: OTelHarness, mode: str, on_span: bool, on_event: bool | None
) -> None:
    model = FakeChatOpenAI(responses=["Fjords are long."])
    reply = model.invoke(LONG, config={"callbacks": [_handler(otel, mode)]})
    assert reply.content == "Fjords are long."
    [span] = otel.spans()
    assert span.name == "chat gpt-4o-mini"
    assert (span.attributes or {}).get(FLAG, False) is on_span
    events = _details(otel)
    if on_event is None:
        assert events == []
    else:
        [event] = events
        assert event.get(FLAG, False) is on_event


def test_event_only_retrieval_span_is_not_flagged_for_text_it_does_not_carry(
    otel: OTelHarness,
) -> None:
    docs = LongDocuments().invoke("fjords", config={"callbacks": [_handler(otel, "EVENT_ONLY")]})
    assert [d.id for d in docs] == ["doc-1", "doc-2"]
    [span] = otel.spans()
    attributes = dict(span.attributes or {})
    assert span.name == "retrieval"
    assert '"doc-1"' in str(attributes[semconv.GEN_AI_RETRIEVAL_DOCUMENTS])  # ids, no text
    assert "fjords of Norway" not in str(attributes)
    assert FLAG not in attributes
