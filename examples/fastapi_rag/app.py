"""A traced RAG service: FastAPI in front of the LangChain chain of ``examples/langchain_rag.py``
and the LlamaIndex query engine of ``examples/llamaindex_rag.py``.

    python examples/fastapi_rag/app.py                       # offline models, 127.0.0.1:8000
    python examples/fastapi_rag/app.py --port 8080 --real    # OpenAI (needs OPENAI_API_KEY)

    curl -s localhost:8000/ask -H 'content-type: application/json' \\
         -H 'x-user-id: u-42' -H 'x-tenant-id: acme' -d '{"question": "Can I return an item?"}'
    curl -s localhost:8000/ask-llamaindex -H 'content-type: application/json' \\
         -d '{"question": "How much does express shipping cost?"}'
    curl -s localhost:8000/feedback -H 'content-type: application/json' \\
         -d '{"trace_id": "<from /ask>", "span_id": "<from /ask>", "score": 1}'

``POST /ask`` runs the chain under the OpenTelemetry FastAPI instrumentation, which honours an
incoming W3C ``traceparent``: the caller's span, the HTTP server span, the chain's workflow span
and its retrieval, embeddings and chat spans form one trace. ``x-user-id`` and ``x-tenant-id``
become ``user.id`` and ``genai_trace.tenant.id`` on every GenAI span (``attribution``). The answer
carries the trace and span ids. ``POST /ask-llamaindex`` answers the same way with the LlamaIndex
query engine over the same documents: server span -> ``RetrieverQueryEngine.query`` -> retrieval
(embeddings) and synthesize (chat), same attribution. ``POST /feedback`` sends the ids back
with a score and records a ``gen_ai.evaluation.result`` event on that span plus the feedback
metrics (per model, feature and prompt version). Telemetry goes where ``configure()`` sends
it: OTLP with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the ``stack/``), else trees on stderr and a JSONL
file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

EXAMPLES = Path(__file__).resolve().parents[1]
if str(EXAMPLES) not in sys.path:  # reuse the LangChain example's pipeline
    sys.path.insert(0, str(EXAMPLES))

import langchain_rag  # noqa: E402
import llamaindex_rag  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, Header, HTTPException  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402
from llama_index.core import VectorStoreIndex  # noqa: E402
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

from genai_trace_core import (  # noqa: E402  # noqa: E402
    Providers,
    attribution,
    configure,
    preload_prices,
    record_feedback,
    trace_ids,
)
from genai_trace_langchain import LangChainInstrumentor  # noqa: E402
from genai_trace_llamaindex import LlamaIndexInstrumentor  # noqa: E402

FEATURE = "support-ask"
PROMPT_VERSION = "v1"  # of the chain's "support-answer" prompt: feedback rates per version


class Ask(BaseModel):
    question: str = Field(min_length=1, max_length=2000)


class Answer(BaseModel):
    answer: str
    trace_id: str | None
    span_id: str | None


class Feedback(BaseModel):
    trace_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    span_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    score: float = Field(ge=0.0, le=1.0)
    comment: str | None = Field(default=None, max_length=2000)


def create_app(providers: Providers | None = None, *, real: bool = False) -> FastAPI:
    """The service. Instrument LangChain and LlamaIndex before calling it (``main`` does);
    ``providers`` default to the global OpenTelemetry ones."""
    chat, embeddings = langchain_rag.models(real)
    store = InMemoryVectorStore(embeddings)
    store.add_documents(langchain_rag.load_documents())
    chain = langchain_rag.build_chain(store, chat)
    llamaindex_rag.use_models(real)
    index = VectorStoreIndex.from_documents(llamaindex_rag.load_documents())
    index.set_index_id("support-docs")
    engine = index.as_query_engine(similarity_top_k=2)
    app = FastAPI(title="genai-trace RAG service")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ask")
    def ask(
        body: Ask,
        x_user_id: Annotated[str | None, Header()] = None,
        x_tenant_id: Annotated[str | None, Header()] = None,
    ) -> Answer:
        # Sync endpoints run in a worker thread with the request's context: the server span is
        # current, so the chain's spans nest under it.
        with attribution(user_id=x_user_id, tenant_id=x_tenant_id, feature=FEATURE):
            text = chain.invoke(body.question)
        ids = trace_ids()  # the HTTP server span: what /feedback attaches to
        return Answer(
            answer=text,
            trace_id=ids.trace_id if ids else None,
            span_id=ids.span_id if ids else None,
        )

    @app.post("/ask-llamaindex")
    def ask_llamaindex(
        body: Ask,
        x_user_id: Annotated[str | None, Header()] = None,
        x_tenant_id: Annotated[str | None, Header()] = None,
    ) -> Answer:
        with attribution(user_id=x_user_id, tenant_id=x_tenant_id, feature=FEATURE):
            text = str(engine.query(body.question))
        ids = trace_ids()
        return Answer(
            answer=text,
            trace_id=ids.trace_id if ids else None,
            span_id=ids.span_id if ids else None,
        )

    @app.post("/feedback", status_code=202)
    def feedback(body: Feedback) -> dict[str, bool]:
        recorded = record_feedback(
            "user_feedback",
            score=body.score,
            label="thumbs_up" if body.score >= 0.5 else "thumbs_down",
            explanation=body.comment,
            trace_id=body.trace_id,
            span_id=body.span_id,
            model=langchain_rag.CHAT_MODEL,
            provider="openai",
            feature=FEATURE,
            prompt_version=PROMPT_VERSION,
            logger_provider=providers.logger_provider if providers else None,
            meter_provider=providers.meter_provider if providers else None,
        )
        if not recorded:
            raise HTTPException(status_code=422, detail="feedback not recorded")
        return {"recorded": True}

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=providers.tracer_provider if providers else None,
        meter_provider=providers.meter_provider if providers else None,
        exclude_spans=["receive", "send"],  # one server span per request, not three
    )
    return app


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="genai-trace FastAPI RAG example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--real", action="store_true", help="use OpenAI (needs OPENAI_API_KEY)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.real and not os.environ.get("OPENAI_API_KEY"):
        print("--real needs OPENAI_API_KEY in the environment", file=sys.stderr)
        return 2
    preload_prices()
    providers = configure(service_name=os.environ.get("OTEL_SERVICE_NAME") or "fastapi-rag")
    instrumentors = (LangChainInstrumentor(), LlamaIndexInstrumentor())
    kwargs: dict[str, Any] = {
        "tracer_provider": providers.tracer_provider,
        "meter_provider": providers.meter_provider,
        "logger_provider": providers.logger_provider,
    }
    for instrumentor in instrumentors:
        instrumentor.instrument(**kwargs)
    try:
        app = create_app(providers, real=args.real)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        for instrumentor in instrumentors:
            instrumentor.uninstrument()
        providers.shutdown()  # flush every span, metric and event before exit
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
