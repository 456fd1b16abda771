"""The same export rules on LlamaIndex paths (issue 13, items 8 and 9): a failing model's
exception text and retrieved node ids that are pre-signed URLs, searched in the OTLP bytes.
Core does the work for both integrations; these tests show LlamaIndex gets it too.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_frameworks import llamaindex_instrumented
from reliability_support import captured_logs, otlp_bytes, with_ledger

from genai_trace_core import CaptureMode, Settings, semconv
from genai_trace_core.testing import OTelHarness

SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
EMAIL = "jane.doe@example.com"
PRESIGNED = (
    f"https://reports.s3.amazonaws.com/{EMAIL}/q3.pdf?X-Amz-Expires=3600"
    f"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101&X-Amz-Signature={SIGNATURE}"
)
GOOGLE_KEY = "AIzaSyA1234567890abcdefghijklmnopqrstu"
PROMPT_MARK = "PROMPTSECRET"


@pytest.mark.parametrize("mode", [CaptureMode.NO_CONTENT, CaptureMode.SPAN_AND_EVENT])
def test_a_failing_model_exports_no_prompt_with_capture_off_and_no_key_ever(
    otel: OTelHarness, mode: CaptureMode
) -> None:
    from llama_index.core.llms import ChatMessage

    from genai_trace_llamaindex.testing import DeterministicLLM

    ledger = with_ledger(otel)
    error = ValueError(f"cannot answer {PROMPT_MARK} for {EMAIL} with ?key={GOOGLE_KEY} \udc80")
    settings = Settings(capture_mode=mode, redact_builtin=True)
    with llamaindex_instrumented(otel, settings):
        llm = DeterministicLLM(fail_with=error)
        with (
            captured_logs("opentelemetry", logging.ERROR) as otel_errors,
            pytest.raises(ValueError, match=PROMPT_MARK),
        ):
            llm.chat([ChatMessage(role="user", content=f"{PROMPT_MARK}: where is Paris?")])
    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert otel_errors == [] and ledger.open_spans() == []
    assert GOOGLE_KEY.encode() not in exported and EMAIL.encode() not in exported
    assert (PROMPT_MARK.encode() in exported) is (mode is not CaptureMode.NO_CONTENT)
    failed = [s for s in otel.spans() if not s.status.is_ok]
    assert failed and all(len(s.status.description or "") <= 256 for s in failed)
    events = [e for s in failed for e in s.events if e.name == "exception"]
    assert events


@pytest.mark.parametrize("mode", [CaptureMode.NO_CONTENT, CaptureMode.SPAN_ONLY])
def test_presigned_node_ids_are_scrubbed_and_follow_content_capture(
    otel: OTelHarness, mode: CaptureMode
) -> None:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import TextNode

    settings = Settings(capture_mode=mode, redact_builtin=True)
    with llamaindex_instrumented(otel, settings):
        index = VectorStoreIndex(nodes=[TextNode(text="Q3 revenue grew.", id_=PRESIGNED)])
        index.set_index_id("reports")
        (found,) = index.as_retriever(similarity_top_k=1).retrieve("revenue?")
    assert found.node.node_id == PRESIGNED  # the app's node, untouched
    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    for secret in (SIGNATURE, "AKIAIOSFODNN7EXAMPLE", EMAIL):
        assert secret.encode() not in exported, secret
    (span,) = [s for s in otel.spans() if s.name == "retrieval reports"]
    assert span.attributes is not None
    raw = span.attributes.get(semconv.GEN_AI_RETRIEVAL_DOCUMENTS)
    if mode is CaptureMode.NO_CONTENT:
        assert raw is None and b"reports.s3.amazonaws.com" not in exported
        return
    (document,) = json.loads(str(raw))
    assert document["id"] == (
        "https://reports.s3.amazonaws.com/[REDACTED:email]/q3.pdf?X-Amz-Expires=3600"
        "&X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]"
    )


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 12
WAV_BYTES = b"RIFF\x00\x00\x00\x00WAVEfmt " + b"AUDIOSECRET" * 300
PDF_BYTES = b"%PDF-1.4 " + b"BYTESECRET" * 300


def _openai_reply(request: httpx.Request) -> httpx.Response:
    assert base64.b64encode(PNG_BYTES) in request.content  # the framework sent the file's bytes
    body = {
        "id": "chatcmpl-blocks",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Two images."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 900, "completion_tokens": 2, "total_tokens": 902},
    }
    return httpx.Response(200, json=body)


@pytest.mark.parametrize("model_kind", ["fake", "OpenAI"])
def test_image_audio_and_document_blocks_are_described_never_copied(
    otel: OTelHarness, model_kind: str, tmp_path: Path
) -> None:
    """Inline blocks (base64-kept in 0.14, raw before), blocks that carry only a ``path`` (the
    size on disk, read by ``os.stat`` only; the path is not exported) and URLs (scrubbed)."""
    from llama_index.core.llms import ChatMessage, ImageBlock, TextBlock

    (tmp_path / "chart.png").write_bytes(PNG_BYTES)
    (tmp_path / "memo.wav").write_bytes(WAV_BYTES)
    (tmp_path / "q3.pdf").write_bytes(PDF_BYTES)
    blocks: list[Any] = [
        TextBlock(text="Describe these."),
        ImageBlock(path=tmp_path / "chart.png"),
        ImageBlock(image=PNG_BYTES, image_mimetype="image/png"),
        ImageBlock(url=PRESIGNED),
    ]
    expected = [
        {"type": "text", "content": "Describe these."},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "size": len(PNG_BYTES)},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "size": len(PNG_BYTES)},
        {"type": "uri", "modality": "image"},
    ]
    if model_kind == "fake":
        from llama_index.core.llms import AudioBlock, DocumentBlock

        from genai_trace_llamaindex.testing import DeterministicLLM

        blocks += [
            AudioBlock(path=tmp_path / "memo.wav"),
            AudioBlock(audio=WAV_BYTES, format="wav"),
            DocumentBlock(path=tmp_path / "q3.pdf"),
            DocumentBlock(data=PDF_BYTES, document_mimetype="application/pdf", title="q3.pdf"),
        ]
        wav = {"type": "blob", "modality": "audio", "mime_type": "audio/x-wav"}
        pdf = {"type": "blob", "modality": "document", "mime_type": "application/pdf"}
        expected += [{**wav, "size": len(WAV_BYTES)}] * 2 + [{**pdf, "size": len(PDF_BYTES)}] * 2
        llm: Any = DeterministicLLM(answer="Two images.")
    else:
        from llama_index.llms.openai import OpenAI

        transport = httpx.MockTransport(_openai_reply)
        llm = OpenAI(
            model="gpt-4o-mini", api_key="sk-test", http_client=httpx.Client(transport=transport)
        )
    ledger = with_ledger(otel)
    with (
        llamaindex_instrumented(otel, Settings(capture_mode=CaptureMode.SPAN_ONLY)),
        captured_logs("opentelemetry", logging.WARNING) as otel_errors,
    ):
        answer = llm.chat([ChatMessage(role="user", blocks=blocks)])
    assert str(answer.message.content) == "Two images."
    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert otel_errors == [] and ledger.open_spans() == []
    for secret in (
        base64.b64encode(PNG_BYTES)[:64],
        b"BYTESECRET",
        b"QVVESU9TRUNSRVQ",
        SIGNATURE.encode(),
    ):
        assert secret not in exported, secret
    assert str(tmp_path).encode() not in exported
    (chat,) = [s for s in otel.spans() if s.name.startswith("chat")]
    (sent,) = json.loads(str((chat.attributes or {})[semconv.GEN_AI_INPUT_MESSAGES]))
    assert [{k: v for k, v in p.items() if k != "uri"} for p in sent["parts"]] == expected
    assert "X-Amz-Signature=[REDACTED]" in sent["parts"][3]["uri"]
