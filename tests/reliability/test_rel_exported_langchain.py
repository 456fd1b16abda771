"""What real LangChain paths export: retrieval document ids, PII in tool-result keys, national
phone numbers, image and file content blocks (issue 13, items 9-11).

Privacy checks search the OTLP protobuf bytes of every span and log record.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest
from reliability_support import captured_logs, otlp_bytes, with_ledger

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

AMZ_CREDENTIAL = "AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
AMZ_SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
PATH_EMAIL = "jane.doe@example.com"
PRESIGNED = (
    f"https://reports.s3.amazonaws.com/{PATH_EMAIL}/q3.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential={AMZ_CREDENTIAL}&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600"
    f"&X-Amz-SignedHeaders=host&X-Amz-Signature={AMZ_SIGNATURE}"
)
KEYED_URL = "https://docs.example.com/page?key=AIzaSyA1234567890abcdefghijklmnopqrstu"


class PresignedRetriever(BaseRetriever):
    """A retriever whose documents carry no id, only ``metadata["source"]`` (as loaders set it)."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document("Q3 revenue grew.", metadata={"source": PRESIGNED, "score": 0.9}),
            Document("Docs page.", metadata={"source": KEYED_URL}),
        ]


def _documents_attr(otel: OTelHarness) -> Any:
    (span,) = [s for s in otel.spans() if s.name.startswith("retrieval")]
    assert span.attributes is not None
    assert span.attributes[semconv.DOCUMENT_COUNT] == 2
    raw = span.attributes.get(semconv.GEN_AI_RETRIEVAL_DOCUMENTS)
    return json.loads(str(raw)) if raw is not None else None


@pytest.mark.parametrize("mode", ["NO_CONTENT", "EVENT_ONLY", "SPAN_ONLY"])
def test_presigned_document_sources_are_scrubbed_and_follow_content_capture(
    otel: OTelHarness, mode: str
) -> None:
    ledger = with_ledger(otel)
    handler = OpenTelemetryCallbackHandler(
        telemetry=otel.telemetry(capture_mode=mode, redact_builtin=True)
    )
    docs = PresignedRetriever().invoke("revenue?", config={"callbacks": [handler]})
    assert [d.metadata["source"] for d in docs] == [PRESIGNED, KEYED_URL]  # the app's, untouched
    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert ledger.open_spans() == []
    for secret in (AMZ_SIGNATURE, "AKIAIOSFODNN7EXAMPLE", PATH_EMAIL, "AIzaSyA1234567890"):
        assert secret.encode() not in exported, secret
    documents = _documents_attr(otel)
    if mode == "NO_CONTENT":  # opt-in in the conventions: not exported at all
        assert documents is None and b"reports.s3.amazonaws.com" not in exported
        return
    ids = [d["id"] for d in documents]
    assert ids[0].startswith("https://reports.s3.amazonaws.com/[REDACTED:email]/q3.pdf?")
    assert "X-Amz-Signature=[REDACTED]" in ids[0] and "X-Amz-Credential=[REDACTED]" in ids[0]
    assert "X-Amz-Expires=3600" in ids[0]  # what is not a secret stays
    assert ids[1] == "https://docs.example.com/page?key=[REDACTED]"
    assert documents[0]["score"] == 0.9
    assert ("content" in documents[0]) is (mode == "SPAN_ONLY")


@tool
def directory(team: str) -> str:
    """Who is on the team, keyed by address, with their phone numbers."""
    return json.dumps(
        {
            "jane.doe@example.com": {"uk": "020 7946 0958", "fr": "06 12 34 56 78"},
            "john.roe@example.org": {"de": "030 12345678", "nl": "020 123 4567"},
            "+1 415 555 0132": "us desk",
            "4155550199": "us plain",
            "order 12345678": "kept",
        }
    )


PII = (
    "jane.doe@example.com",
    "john.roe@example.org",
    "020 7946 0958",
    "06 12 34 56 78",
    "030 12345678",
    "020 123 4567",
    "415 555 0132",
    "4155550199",
)


def test_pii_in_tool_result_keys_is_redacted_on_the_tool_and_the_next_chat(
    otel: OTelHarness,
) -> None:
    ledger = with_ledger(otel)
    handler = OpenTelemetryCallbackHandler(
        telemetry=otel.telemetry(capture_mode="SPAN_AND_EVENT", redact_builtin=True)
    )
    call = {"name": "directory", "args": {"team": "ops"}, "id": "call_1", "type": "tool_call"}
    model = FakeChatOpenAI(responses=[AIMessage("", tool_calls=[call]), "Done."]).bind_tools(
        [directory]
    )
    config: Any = {"callbacks": [handler]}
    history: list[Any] = [HumanMessage("Who is on ops?")]
    first = model.invoke(history, config=config)
    result = directory.invoke(first.tool_calls[0], config=config)
    assert "jane.doe@example.com" in result.content  # the app's result is untouched
    history += [first, result]
    assert model.invoke(history, config=config).content == "Done."
    with captured_logs("opentelemetry", logging.ERROR) as otel_errors:
        exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert otel_errors == [] and ledger.open_spans() == []
    for value in PII:
        assert value.encode() not in exported, value
    assert b"order 12345678" in exported  # look-alikes are kept
    tool_span = next(s for s in otel.spans() if s.name == "execute_tool directory")
    assert tool_span.attributes is not None
    tool_result = json.loads(str(tool_span.attributes[semconv.GEN_AI_TOOL_CALL_RESULT]))
    assert sorted(tool_result) == [
        "[REDACTED:email]",
        "[REDACTED:email]#2",
        "[REDACTED:phone]",
        "[REDACTED:phone]#2",
        "order 12345678",
    ]
    chats = [s for s in otel.spans() if s.name.startswith("chat")]
    last_input = str((chats[-1].attributes or {})[semconv.GEN_AI_INPUT_MESSAGES])
    assert "[REDACTED:email]" in last_input and "[REDACTED:phone]" in last_input


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 12).decode()
PDF = base64.b64encode(b"%PDF-1.4 " + b"BYTESECRET" * 300).decode()


def _openai_reply(request: httpx.Request) -> httpx.Response:
    choice = {"index": 0, "message": {"role": "assistant", "content": "Two images."}}
    body = {
        "id": "chatcmpl-blocks",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{**choice, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 2, "total_tokens": 902},
    }
    return httpx.Response(200, json=body)


@pytest.mark.parametrize("model_kind", ["fake", "ChatOpenAI"])
def test_image_and_file_blocks_are_described_never_copied(
    otel: OTelHarness, model_kind: str
) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode="SPAN_ONLY"))
    message = HumanMessage(
        content=[
            {"type": "text", "text": "Describe these."},
            {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/png"},
            {"type": "image", "source_type": "url", "url": PRESIGNED},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {
                "type": "file",
                "source_type": "base64",
                "data": PDF,
                "mime_type": "application/pdf",
                "filename": "q3.pdf",
            },
            {"type": "file", "file": {"file_id": "file-abc123"}},
            {"type": "audio", "source_type": "base64", "data": PNG, "mime_type": "audio/wav"},
        ]
    )
    config: Any = {"callbacks": [handler]}
    if model_kind == "fake":
        FakeChatOpenAI(responses=["Two images."]).invoke([message], config=config)
    else:
        with httpx.Client(transport=httpx.MockTransport(_openai_reply)) as client:
            model = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", http_client=client)  # type: ignore[arg-type]
            assert model.invoke([message], config=config).content == "Two images."
    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert PNG[:64].encode() not in exported and PDF[:64].encode() not in exported
    assert b"BYTESECRET" not in exported and AMZ_SIGNATURE.encode() not in exported
    (chat,) = otel.spans()
    (sent,) = json.loads(str((chat.attributes or {})[semconv.GEN_AI_INPUT_MESSAGES]))
    parts = [{k: v for k, v in p.items() if k != "uri"} for p in sent["parts"]]
    png_size, pdf_size = len(base64.b64decode(PNG)), len(base64.b64decode(PDF))
    assert parts == [
        {"type": "text", "content": "Describe these."},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "size": png_size},
        {"type": "uri", "modality": "image"},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "size": png_size},
        {"type": "blob", "modality": "document", "mime_type": "application/pdf", "size": pdf_size},
        {"type": "file", "modality": "document", "file_id": "file-abc123"},
        {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "size": png_size},
    ]
    assert "X-Amz-Signature=[REDACTED]" in sent["parts"][2]["uri"]
