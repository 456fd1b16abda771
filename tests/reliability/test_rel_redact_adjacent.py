"""Redaction of values that touch other numbers, through both integrations, searched in the OTLP
bytes. A table row pasted into a prompt or a document loses its column separators
("Jane +44 20 7946 0958 4111 1111 1111 1111", "paid 2024 5555 5555 5555 4444"): the detector's
first candidate then spans two values and fails its check (too many digits for a phone, no Luhn
for a card). Both values must still be masked, and the look-alike before them kept.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from reliability_frameworks import llamaindex_instrumented
from reliability_support import otlp_bytes, with_ledger

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.testing import OTelHarness

ROW = (
    "ROWMARK Jane +44 20 7946 0958 4111 1111 1111 1111 | "
    "paid 2024 5555 5555 5555 4444 | tel 415-555-0123 6011-1111-1111-1117 | "
    "ref 12345 378282246310005"
)
MASKED = ("7946", "4111", "5555", "555-0123", "6011", "378282246310005")
KEPT = ("paid 2024 ", "ref 12345 ")
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# LlamaIndex's agent workflows read pydantic's deprecated ``__fields__`` (not our code).
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
SETTINGS = Settings(capture_mode=CaptureMode.SPAN_AND_EVENT, redact_builtin=True)


def run_langchain(otel: OTelHarness) -> None:
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough
    from langchain_core.tools import tool
    from langchain_core.vectorstores import InMemoryVectorStore

    from genai_trace_langchain import OpenTelemetryCallbackHandler
    from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(SETTINGS))
    config: Any = {"callbacks": [handler]}
    store = InMemoryVectorStore(DeterministicEmbeddings())
    store.add_documents([Document(ROW, id="d1")])
    fmt = RunnableLambda(lambda docs: "\n".join(d.page_content for d in docs))
    prompt = ChatPromptTemplate.from_messages([("system", "Context: {context}"), ("user", "{q}")])
    rag = (
        {"context": store.as_retriever(search_kwargs={"k": 1}) | fmt, "q": RunnablePassthrough()}
        | prompt
        | FakeChatOpenAI(responses=[ROW])
        | StrOutputParser()
    )

    @tool
    def lookup(row: str) -> dict[str, str]:
        """Look the customer up."""
        return {row: row}

    assert rag.invoke(ROW, config=config) == ROW
    assert lookup.invoke({"row": ROW}, config=config) == {ROW: ROW}


def run_llamaindex(otel: OTelHarness) -> None:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.tools import FunctionTool

    from genai_trace_llamaindex.testing import DeterministicLLM

    def lookup(row: str) -> dict[str, str]:
        """Look the customer up."""
        return {row: row}

    with llamaindex_instrumented(otel, SETTINGS):
        index = VectorStoreIndex.from_documents([Document(text=ROW, id_="d1")])
        engine = index.as_query_engine(llm=DeterministicLLM(answer=ROW), similarity_top_k=1)
        assert str(engine.query(ROW)) == ROW
        assert FunctionTool.from_defaults(fn=lookup).call(row=ROW).raw_output == {ROW: ROW}


@pytest.mark.parametrize("integration", ["langchain", "llamaindex"])
def test_adjacent_phone_and_card_numbers_are_each_masked(
    otel: OTelHarness, integration: str
) -> None:
    ledger = with_ledger(otel)
    (run_langchain if integration == "langchain" else run_llamaindex)(otel)

    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert ledger.open_spans() == []
    assert exported.count(b"ROWMARK") >= 4  # captured: prompt, document, answer, tool, events
    # Random ids exported as text (LlamaIndex node ids, response ids: uuid4) may hold "5555".
    text = _UUID.sub(b"<uuid>", exported)
    assert [v for v in MASKED if v.encode() in text] == []
    assert b"Jane [REDACTED:phone] [REDACTED:card]" in exported
    assert b"tel [REDACTED:phone] [REDACTED:card]" in exported
    assert [v for v in KEPT if (v + "[REDACTED:card]").encode() not in exported] == []
