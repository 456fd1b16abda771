"""The stack's end-to-end workload: the real example pipelines, traced by the real integrations.

``instrumented(tracer_provider, meter_provider)`` instruments LangChain/LangGraph and LlamaIndex
with ``LangChainInstrumentor`` / ``LlamaIndexInstrumentor`` on the given providers (never the
global ones) and uninstruments on exit. ``run_round(providers, seed)`` then runs, offline:

* ``examples/langchain_rag.py``: the LCEL RAG chain over ``examples/data/`` (indexing, one
  invoked and one streamed question);
* ``examples/langgraph_agent.py``: the LangGraph tool agent on its questions (parallel tools);
* ``examples/llamaindex_rag.py``: the ``VectorStoreIndex`` query engine (one invoked, one
  streamed question);
* ``examples/llamaindex_agent.py``: the ``FunctionAgent`` answering a shipping question, and a
  customer asking for a shipping method the shop does not have (its tool raises ``KeyError``);
* ``examples/load.py``'s ``run_load``: a burst of its production-like mix (six models of three
  providers, tenants, features and users through ``attribution()``, streaming, reasoning, cached
  input, retried and failing rate limits, timeouts, and user feedback through
  ``record_feedback`` on a share of the answers).

The only synthetic signal left is an evaluator's score (``record_feedback("faithfulness")``): no
example runs an evaluator, and the "Mean evaluation score" panel groups by evaluation name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from genai_trace_core import (
    Providers,
    count_tokens,
    get_settings,
    preload_prices,
    record_feedback,
    semconv,
)
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_llamaindex import LlamaIndexInstrumentor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

import langchain_rag  # noqa: E402
import langgraph_agent  # noqa: E402
import llamaindex_agent  # noqa: E402
import llamaindex_rag  # noqa: E402
import load  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402
from llama_index.core import VectorStoreIndex  # noqa: E402

from genai_trace_llamaindex.testing import (  # noqa: E402
    DeterministicEmbedding,
    DeterministicLLM,
)

# Attribution keys the Cost dashboard groups by (GENAI_TRACE_METRIC_ATTRIBUTE_KEYS in real use).
ATTRIBUTION_KEYS = (semconv.TENANT_ID, semconv.FEATURE, semconv.USER_ID)
# examples/load.py's mix: requests per round, sent at LOAD_RATE per second.
LOAD_RATE = 60.0
LOAD_REQUESTS = 30
# load.py's default seed: its first 30 requests include two gpt-4o-mini timeouts (RAG chain and
# LlamaIndex query engine), so GenAIHighErrorRatio goes pending, as on a bad day.
LOAD_SEED = 7


@contextmanager
def instrumented(
    tracer_provider: TracerProvider,
    langchain_meters: MeterProvider,
    llamaindex_meters: MeterProvider,
) -> Iterator[Providers]:
    """Both integrations on these providers, with the Cost dashboard's attribution keys.

    Each integration gets its own meter provider: both emit the same metric names under their
    own instrumentation scope, and opentelemetry-exporter-prometheus (0.66b2) builds one family
    per name with the first scope's label names, then zips later scopes' label values into it
    by position (``gen_ai_operation_name="KeyError"``). Two readers on two endpoints keep every
    series correctly labelled, as the collector's OTLP path does. Feedback goes with LangChain's.
    """
    preload_prices()
    for model in (langchain_rag.CHAT_MODEL, langchain_rag.EMBED_MODEL):
        count_tokens(["warm up"], model)  # tokenizers load before tracing
    # The workload's fake embedding models report no usage: it opts in to offline counts
    # (GENAI_TRACE_ESTIMATE_USAGE) so the embeddings token panel has data, as a user would.
    settings = dataclasses.replace(
        get_settings(), metric_attribute_keys=ATTRIBUTION_KEYS, estimate_usage=True
    )
    providers = Providers(
        tracer_provider=tracer_provider,
        meter_provider=langchain_meters,
        logger_provider=LoggerProvider(),
        mode="embedded",
    )
    instrumentors = (
        (LangChainInstrumentor(), langchain_meters),
        (LlamaIndexInstrumentor(), llamaindex_meters),
    )
    for instrumentor, meters in instrumentors:
        instrumentor.instrument(
            tracer_provider=tracer_provider,
            meter_provider=meters,
            logger_provider=providers.logger_provider,
            settings=settings,
        )
    try:
        yield providers
    finally:
        for instrumentor, _ in instrumentors:
            instrumentor.uninstrument()
        providers.logger_provider.shutdown()


def _langchain_rag() -> None:
    chat, embeddings = langchain_rag.models(real=False)
    store = InMemoryVectorStore(embeddings)
    store.add_documents(langchain_rag.load_documents())
    chain = langchain_rag.build_chain(store, chat)
    config: Any = {"metadata": {"session_id": "e2e-session", "user_id": "e2e-user"}}
    first, *_, last = langchain_rag.QUESTIONS
    chain.invoke(first, config=config)
    for _ in chain.stream(last, config=config):
        pass


def _langgraph_agent() -> None:
    agent = langgraph_agent.build_agent(langgraph_agent.chat_model(real=False))
    for i, question in enumerate(langgraph_agent.QUESTIONS):
        config: Any = {"configurable": {"thread_id": f"e2e-thread-{i}"}}
        agent.invoke({"messages": [("user", question)]}, config=config)


def _llamaindex_rag() -> None:
    index = VectorStoreIndex.from_documents(
        llamaindex_rag.load_documents(), embed_model=DeterministicEmbedding(embed_dim=64)
    )
    index.set_index_id("support-docs")
    first, last = llamaindex_rag.QUESTIONS
    llm = DeterministicLLM()
    index.as_query_engine(llm=llm, similarity_top_k=2).query(first)
    streamed = index.as_query_engine(llm=llm, similarity_top_k=2, streaming=True).query(last)
    for _ in streamed.response_gen:  # type: ignore[union-attr]
        pass
    _close_main_thread_loop()


def _close_main_thread_loop() -> None:
    """LlamaIndex's sync paths leave a main-thread event loop open; close it here so it is not
    reported (warnings are errors) when garbage-collected later. Not a genai-trace issue."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running():
        loop.close()
    asyncio.set_event_loop(None)


async def _llamaindex_agent() -> None:
    await llamaindex_agent.ask("How much does express shipping cost?", real=False)
    # No such method: the tool raises KeyError (Errors and RAG dashboards' tool failure panels).
    overnight = DeterministicLLM(tool_calls=[("shipping_price", {"method": "overnight"})])
    await llamaindex_agent.build_agent(overnight).run("How much is overnight shipping?")


def _evaluator_scores(providers: Providers) -> None:
    for model, score in (("gpt-4o-mini", 0.8), ("gpt-4o", 0.9)):
        record_feedback(
            "faithfulness",
            score=score,
            label="faithful",
            model=model,
            provider=semconv.PROVIDER_OPENAI,
            logger_provider=providers.logger_provider,
            meter_provider=providers.meter_provider,
        )


def run_round(providers: Providers) -> load.Stats:
    """One round of every example pipeline plus a burst of load.py's mix.

    Every round replays the same seeded burst, so each labelled series (a model's timeouts for
    one tenant and user, say) grows between scrapes and ``rate()``/``increase()`` see it: a
    series first scraped at its final value has no increase.
    """
    _langchain_rag()
    _langgraph_agent()
    _llamaindex_rag()
    asyncio.run(_llamaindex_agent())
    stats = load.run_load(
        providers, rate=LOAD_RATE, duration=LOAD_REQUESTS / LOAD_RATE, seed=LOAD_SEED
    )
    _evaluator_scores(providers)
    return stats
