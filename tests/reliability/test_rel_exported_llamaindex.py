"""The same export rules on LlamaIndex paths (issue 13, items 8 and 9): a failing model's
exception text and retrieved node ids that are pre-signed URLs, searched in the OTLP bytes.
Core does the work for both integrations; these tests show LlamaIndex gets it too.
"""

from __future__ import annotations

import json
import logging

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
