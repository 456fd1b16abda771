"""Contract: a URL whose slashes are JSON-escaped, as PHP and some JSON encoders write it
(``postgres:\\/\\/admin:pw@db.internal``), or escaped twice, has its password masked like a plain
URL's. A LangChain tool returns it in a plain-text result and a LlamaIndex document holds it; the
OTLP bytes of every span and log record hold the password in no capture mode, redaction on or off
(both forms were exported whole until this was fixed)."""

from __future__ import annotations

from typing import Any

import pytest
from reliability_frameworks import llamaindex_instrumented
from reliability_support import otlp_bytes

from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_core")
pytest.importorskip("llama_index.core")
from langchain_core.tools import tool
from llama_index.core import Document, VectorStoreIndex

from genai_trace_langchain import OpenTelemetryCallbackHandler

PASSWORD = "S3cret" + "PgPassw0rd"
PLAIN = f"postgres://admin:{PASSWORD}@db.internal:5432/app"
ESCAPED = PLAIN.replace("/", "\\/")  # postgres:\/\/admin:...@db.internal:5432\/app
TWICE = PLAIN.replace("/", "\\\\/")  # postgres:\\/\\/admin:...
RUNBOOK = f"Runbook: the reporting replica is {ESCAPED} (legacy config: {TWICE})."
MODES = ["SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]


@tool
def database_settings(service: str) -> str:
    """The connection settings of a service, as its PHP admin page prints them."""
    return f"{service}: {RUNBOOK}"


def _langchain(otel: OTelHarness, mode: str, redact: bool) -> str:
    handler = OpenTelemetryCallbackHandler(
        telemetry=otel.telemetry(capture_mode=mode, redact_builtin=redact)
    )
    out = database_settings.invoke({"service": "reports"}, config={"callbacks": [handler]})
    assert PASSWORD in out  # the program's own value is untouched
    return "execute_tool database_settings"


def _llamaindex(otel: OTelHarness, mode: str, redact: bool) -> str:
    settings: Any = otel.telemetry(capture_mode=mode, redact_builtin=redact).settings
    with llamaindex_instrumented(otel, settings):
        index = VectorStoreIndex.from_documents([Document(text=RUNBOOK, doc_id="runbook")])
        nodes = index.as_retriever(similarity_top_k=1).retrieve("reporting replica")
    assert PASSWORD in nodes[0].get_content()
    return "retrieval"


@pytest.mark.parametrize("redact", [False, True], ids=["redaction-off", "redaction-on"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("run", [_langchain, _llamaindex], ids=["langchain", "llamaindex"])
def test_an_escaped_url_password_in_a_tool_result_or_document_is_never_exported(
    otel: OTelHarness, run: Any, mode: str, redact: bool
) -> None:
    span_name = run(otel, mode, redact)
    spans = otel.spans()
    assert any(s.name.startswith(span_name) for s in spans), [s.name for s in spans]
    data = otlp_bytes(spans, otel.log_exporter.get_finished_logs())
    assert PASSWORD.encode() not in data
    if mode != "EVENT_ONLY":  # the text itself was exported, with only the password masked
        assert data.count(b"[REDACTED:password]@db.internal:5432") >= 2
