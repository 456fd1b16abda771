"""The FastAPI RAG example across two processes: the app runs under uvicorn in a subprocess on
127.0.0.1 and exports OTLP/HTTP to a receiver in this test; an instrumented httpx client calls it
under a client span. One trace id spans both processes, with the parents client span -> httpx
span -> HTTP server span -> workflow -> retrieval (embeddings) and chat, the attribution headers
on every GenAI span, and the feedback event attached to the span the answer named. The same holds
for ``/ask-llamaindex`` (HTTP server span -> query -> retrieval (embeddings), synthesize (chat))."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("opentelemetry.instrumentation.httpx")

import httpx
from fastapi_rag_app import LI_QUESTION, QUESTION, pipeline, run_app, tree
from inline_snapshot import snapshot
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from otlp_receiver import Received, otlp_receiver

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness


def test_one_trace_spans_client_server_and_rag_pipeline_with_attribution_and_feedback(
    tmp_path: Path, otel: OTelHarness
) -> None:
    answers: list[dict[str, Any]] = []
    client_ids: list[tuple[str, str]] = []

    def ask(client: httpx.Client, path: str, question: str) -> None:
        tracer = otel.tracer_provider.get_tracer("e2e-client")
        with tracer.start_as_current_span(f"{path[1:]}-client") as span:
            sc = span.get_span_context()
            client_ids.append((f"{sc.trace_id:032x}", f"{sc.span_id:016x}"))
            r = client.post(
                path,
                json={"question": question},
                headers={"x-user-id": "u-42", "x-tenant-id": "acme"},
            )
            assert r.status_code == 200, r.text
            answers.append(r.json())

    def calls(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            HTTPXClientInstrumentor.instrument_client(client, tracer_provider=otel.tracer_provider)
            ask(client, "/ask", QUESTION)
            ask(client, "/ask-llamaindex", LI_QUESTION)
            body = answers[0]
            fb = client.post(
                "/feedback",
                json={"trace_id": body["trace_id"], "span_id": body["span_id"], "score": 1},
            )
            assert fb.status_code == 202, fb.text
            HTTPXClientInstrumentor.uninstrument_client(client)

    with otlp_receiver() as (endpoint, received):
        run_app(tmp_path, endpoint, calls)
        _check(otel, received, client_ids[0], answers[0])
        _check_llamaindex(otel, received, client_ids[1], answers[1])


def _check(
    otel: OTelHarness, received: Received, client: tuple[str, str], answer: dict[str, Any]
) -> None:
    trace_id, client_span_id = client
    assert "30 days" in answer["answer"]
    local = [s for s in otel.span_dicts() if s["trace_id"] == trace_id]
    remote = [s for s in received.spans if s["trace_id"] == trace_id]
    assert {s["service"] for s in remote} == {"fastapi-rag-e2e"}
    # Both processes' spans of the /ask call, one tree under the test's client span.
    spans = [{k: s[k] for k in ("name", "span_id", "parent_id", "start")} for s in local + remote]
    retrieval = ["retrieval", [["embeddings text-embedding-3-small", []]]]
    context = ["RunnableSequence", [retrieval, ["format_docs", []]]]
    workflow = [
        "invoke_workflow support_rag",
        [
            ["RunnableParallel<context,question>", [["RunnablePassthrough", []], context]],
            ["support-answer", []],
            ["chat gpt-4o-mini", []],
            ["StrOutputParser", []],
        ],
    ]
    assert tree(spans, None) == [["ask-client", [["POST", [["POST /ask", [workflow]]]]]]]
    [server] = [s for s in remote if s["name"] == "POST /ask"]
    assert (answer["trace_id"], answer["span_id"]) == (trace_id, server["span_id"])
    assert server["parent_id"] != client_span_id  # the httpx client span sits in between
    # every span of the pipeline whole, attribution headers included
    assert pipeline(remote) == snapshot(
        [
            {
                "name": "invoke_workflow support_rag",
                "kind": "INTERNAL",
                "parent": None,
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "support_rag",
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "support_rag",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "RunnableParallel<context,question>",
                "kind": "INTERNAL",
                "parent": 0,
                "attributes": {
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableParallel<context,question>",
                    "genai_trace.run.type": "chain",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "RunnablePassthrough",
                "kind": "INTERNAL",
                "parent": 1,
                "attributes": {
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnablePassthrough",
                    "genai_trace.run.type": "chain",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "RunnableSequence",
                "kind": "INTERNAL",
                "parent": 1,
                "attributes": {
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                    "genai_trace.run.type": "chain",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "retrieval",
                "kind": "CLIENT",
                "parent": 3,
                "attributes": {
                    "gen_ai.operation.name": "retrieval",
                    "gen_ai.retrieval.top_k": 2,
                    "genai_trace.documents.count": 2,
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "VectorStoreRetriever",
                    "genai_trace.run.tags": ["InMemoryVectorStore", "KeywordEmbeddings"],
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "embeddings text-embedding-3-small",
                "kind": "CLIENT",
                "parent": 4,
                "attributes": {
                    "gen_ai.embeddings.dimension.count": 64,
                    "gen_ai.operation.name": "embeddings",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "text-embedding-3-small",
                    "genai_trace.cost.input_usd": 2e-07,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 2e-07,
                    "genai_trace.embeddings.input_count": 1,
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.estimated.input_tokens": 10,
                    "genai_trace.tenant.id": "acme",
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                    "user.id": "u-42",
                },
            },
            {
                "name": "format_docs",
                "kind": "INTERNAL",
                "parent": 3,
                "attributes": {
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "format_docs",
                    "genai_trace.run.type": "chain",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "support-answer",
                "kind": "INTERNAL",
                "parent": 0,
                "attributes": {
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "support-answer",
                    "genai_trace.run.type": "prompt",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.prompt.name": "support-answer",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-91c67fe45cdee8b1",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 103,
                    "gen_ai.usage.output_tokens": 13,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.545e-05,
                    "genai_trace.cost.output_usd": 7.8e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 2.325e-05,
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.tenant.id": "acme",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                    "user.id": "u-42",
                },
            },
            {
                "name": "StrOutputParser",
                "kind": "INTERNAL",
                "parent": 0,
                "attributes": {
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "StrOutputParser",
                    "genai_trace.run.type": "parser",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
        ]
    )
    [feedback] = [r for r in received.logs if r["event_name"] == semconv.EVENT_EVALUATION_RESULT]
    assert (feedback["trace_id"], feedback["span_id"]) == (trace_id, server["span_id"])
    assert feedback["attributes"] == {
        semconv.GEN_AI_EVALUATION_NAME: "user_feedback",
        semconv.GEN_AI_EVALUATION_SCORE_VALUE: 1.0,
        semconv.GEN_AI_EVALUATION_SCORE_LABEL: "thumbs_up",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.FEATURE: "support-ask",
        semconv.GEN_AI_PROMPT_VERSION: "v1",
    }


def _check_llamaindex(
    otel: OTelHarness, received: Received, client: tuple[str, str], answer: dict[str, Any]
) -> None:
    trace_id, _ = client
    assert answer["answer"]
    local = [s for s in otel.span_dicts() if s["trace_id"] == trace_id]
    remote = [s for s in received.spans if s["trace_id"] == trace_id]
    assert {s["service"] for s in remote} == {"fastapi-rag-e2e"}
    spans = [{k: s[k] for k in ("name", "span_id", "parent_id", "start")} for s in local + remote]
    query = [
        "RetrieverQueryEngine.query",
        [
            ["retrieval support-docs", [["embeddings text-embedding-3-small", []]]],
            ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
        ],
    ]
    assert tree(spans, None) == [
        ["ask-llamaindex-client", [["POST", [["POST /ask-llamaindex", [query]]]]]]
    ]
    [server] = [s for s in remote if s["name"] == "POST /ask-llamaindex"]
    assert (answer["trace_id"], answer["span_id"]) == (trace_id, server["span_id"])
    # every span of the pipeline whole, attribution headers included
    assert pipeline(remote) == snapshot(
        [
            {
                "name": "RetrieverQueryEngine.query",
                "kind": "INTERNAL",
                "parent": None,
                "attributes": {
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "llama_index",
                    "genai_trace.run.name": "RetrieverQueryEngine.query",
                    "genai_trace.run.type": "query",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "retrieval support-docs",
                "kind": "CLIENT",
                "parent": 0,
                "attributes": {
                    "gen_ai.data_source.id": "support-docs",
                    "gen_ai.operation.name": "retrieval",
                    "gen_ai.retrieval.top_k": 2,
                    "genai_trace.documents.count": 2,
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "llama_index",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "embeddings text-embedding-3-small",
                "kind": "CLIENT",
                "parent": 1,
                "attributes": {
                    "gen_ai.embeddings.dimension.count": 64,
                    "gen_ai.operation.name": "embeddings",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "text-embedding-3-small",
                    "genai_trace.cost.input_usd": 1.8e-07,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.8e-07,
                    "genai_trace.embeddings.input_count": 1,
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "llama_index",
                    "genai_trace.usage.estimated.input_tokens": 9,
                    "genai_trace.tenant.id": "acme",
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                    "user.id": "u-42",
                },
            },
            {
                "name": "CompactAndRefine.synthesize",
                "kind": "INTERNAL",
                "parent": 0,
                "attributes": {
                    "genai_trace.documents.count": 2,
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "llama_index",
                    "genai_trace.run.name": "CompactAndRefine.synthesize",
                    "genai_trace.run.type": "synthesize",
                    "genai_trace.tenant.id": "acme",
                    "user.id": "u-42",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 3,
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-0000",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 168,
                    "gen_ai.usage.output_tokens": 12,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 2.52e-05,
                    "genai_trace.cost.output_usd": 7.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 3.24e-05,
                    "genai_trace.feature": "support-ask",
                    "genai_trace.framework": "llama_index",
                    "genai_trace.tenant.id": "acme",
                    "genai_trace.usage.source": "provider",
                    "user.id": "u-42",
                },
            },
        ]
    )
