"""Credentials inside captured content are masked in every capture mode, redaction off.

A user who turns content capture on asks for prompts, documents, tool arguments and results and
answers; not for the API key someone pasted into a question, the pre-signed URL in a document or
the token a tool echoed. Real LangChain (LCEL RAG with ``ChatOpenAI``, a tool) and LlamaIndex
(a query engine with ``OpenAI``) programs run over an ``httpx.MockTransport`` OpenAI, every
credential format below sits in the question, a document, a tool's argument and result and the
model's answer, and the encoded OTLP bytes of every span and log record are searched.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from reliability_frameworks import llamaindex_instrumented
from reliability_support import otlp_bytes

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.testing import OTelHarness

OPENAI_KEY = "sk-proj-CONTENTkey0123456789abcdefghijklmnopqrstuv"
GITHUB_TOKEN = "ghp_CONTENTgithub0123456789abcdefghijklmno"
AWS_KEY = "AKIACONTENTAWS012345"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb250ZW50In0.c2lnbmF0dXJlQ09OVEVOVA"
URL_PASSWORD = "CONTENTpw-hunter2"
QUERY_KEY = "CONTENTqueryKEY42"
BEARER = "CONTENTbearer0123456789"
# Glued to what comes before it: a JSON escape ("\\n"), an underscore.
ESCAPED_KEY = "sk-ant-CONTENTescaped0123456789abcdefghij"
GLUED_KEY = "sk-CONTENTglued0123456789abcdefghijklmn"
SECRETS = (OPENAI_KEY, GITHUB_TOKEN, AWS_KEY, JWT, URL_PASSWORD, QUERY_KEY, BEARER, "CONTENT")

QUESTION = f"What is the capital of France? My key is {OPENAI_KEY}."
DOCUMENT = (
    f"Paris is the capital of France. Mirror: https://files.example.com/p.pdf?api_key={QUERY_KEY}"
    f"&page=2 and postgres://admin:{URL_PASSWORD}@db.internal:5432/geo. Config: "
    + json.dumps({"file": "llm.cfg", "content": f"# key\n{ESCAPED_KEY}\nOPENAI_KEY_{GLUED_KEY}"})
)
ANSWER = f"Paris. (Use AWS key {AWS_KEY} and header Authorization: Bearer {BEARER}.)"
TOOL_ARGUMENT = f"population of Paris, token {GITHUB_TOKEN}"
TOOL_RESULT = f"2.1 million; session {JWT}"
MODES = ["SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]


def _reply(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if request.url.path.endswith("/embeddings"):
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.5] * 8} for i in range(len(inputs))
        ]
        usage = {"prompt_tokens": 3, "total_tokens": 3}
        return httpx.Response(
            200, json={"object": "list", "data": data, "model": body["model"], "usage": usage}
        )
    message = {"role": "assistant", "content": ANSWER}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    usage = {"prompt_tokens": 40, "completion_tokens": 20, "total_tokens": 60}
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-content",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [choice],
            "usage": usage,
        },
    )


def _assert_masked(exported: bytes, mode: str) -> None:
    for secret in SECRETS:
        assert secret.encode() not in exported, (mode, secret)
    for kind in ("openai_key", "anthropic_key", "aws_key", "bearer_token", "password"):
        assert f"[REDACTED:{kind}]".encode() in exported, (mode, kind)
    assert b"api_key=[REDACTED]&page=2" in exported  # the other parameter stays
    # The content is there: only the credentials are not.
    assert b"What is the capital of France? My key is [REDACTED:openai_key]." in exported
    assert b"Paris is the capital of France." in exported
    # the document's JSON escape ("\\n"), escaped once more inside a JSON attribute
    assert re.search(rb"# key\\+n\[REDACTED:anthropic_key\]", exported)
    assert b"OPENAI_KEY_[REDACTED:openai_key]" in exported


def _assert_tool_masked(exported: bytes, mode: str) -> None:
    """Tool arguments and results are span content (no tool event exists)."""
    if mode == "EVENT_ONLY":
        assert b"population of Paris" not in exported
        return
    assert b"population of Paris, token [REDACTED:github_token]" in exported
    assert b"2.1 million; session [REDACTED:jwt]" in exported


@pytest.mark.parametrize("mode", MODES)
def test_langchain_content_credentials_masked(otel: OTelHarness, mode: str) -> None:
    pytest.importorskip("langchain_openai")
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import RunnablePassthrough
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    from genai_trace_langchain import OpenTelemetryCallbackHandler

    class Docs(BaseRetriever):
        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            return [Document(DOCUMENT, metadata={"source": "geo.txt"})]

    @tool
    def population(query: str) -> str:
        """Look a population up."""
        return TOOL_RESULT

    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode=mode))
    config: Any = {"callbacks": [handler]}
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context:\n{context}"), ("user", "{question}")]
    )
    with httpx.Client(transport=httpx.MockTransport(_reply)) as client:
        model = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", http_client=client)  # type: ignore[arg-type]
        docs = Docs()
        chain = (
            {"context": docs | (lambda d: d[0].page_content), "question": RunnablePassthrough()}
            | prompt
            | model
            | StrOutputParser()
        ).with_config(run_name="qa")
        answers = chain.batch([QUESTION, QUESTION], config=config)
        result = population.invoke({"query": TOOL_ARGUMENT}, config=config)

    assert answers == [ANSWER, ANSWER]  # what the program gets is untouched
    assert result == TOOL_RESULT
    spans = otel.spans()
    names = {s.name for s in spans}
    assert names >= {"invoke_workflow qa", "chat gpt-4o-mini", "execute_tool population"}
    exported = otlp_bytes(spans, otel.log_exporter.get_finished_logs())
    _assert_masked(exported, mode)
    _assert_tool_masked(exported, mode)


@pytest.mark.parametrize("mode", MODES)
def test_llamaindex_content_credentials_masked(otel: OTelHarness, mode: str) -> None:
    pytest.importorskip("llama_index.llms.openai")
    pytest.importorskip("llama_index.embeddings.openai")
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.tools import FunctionTool
    from llama_index.embeddings.openai import OpenAIEmbedding
    from llama_index.llms.openai import OpenAI

    def population(query: str) -> str:
        """Look a population up."""
        return TOOL_RESULT

    with httpx.Client(transport=httpx.MockTransport(_reply)) as client:
        llm = OpenAI(model="gpt-4o-mini", api_key="sk-test", http_client=client, max_retries=0)
        embed = OpenAIEmbedding(
            model="text-embedding-3-small", api_key="sk-test", http_client=client, max_retries=0
        )
        with llamaindex_instrumented(otel, Settings(capture_mode=CaptureMode(mode))):
            index = VectorStoreIndex.from_documents([Document(text=DOCUMENT)], embed_model=embed)
            index.set_index_id("geo")
            answer = index.as_query_engine(llm=llm, similarity_top_k=1).query(QUESTION)
            output = FunctionTool.from_defaults(population).call(query=TOOL_ARGUMENT)

    assert str(answer) == ANSWER
    assert output.content == TOOL_RESULT
    spans = otel.spans()
    names = {s.name for s in spans}
    assert names >= {"chat gpt-4o-mini", "retrieval geo", "execute_tool population"}
    exported = otlp_bytes(spans, otel.log_exporter.get_finished_logs())
    _assert_masked(exported, mode)
    _assert_tool_masked(exported, mode)
