"""genai-trace load: drive the example pipelines with production-like traffic (offline models).

    python examples/load.py --rate 5 --duration 60                 # mixed traffic for a minute
    python examples/load.py --scenario cost-spike --duration 600   # trips GenAICostBudget*
    python examples/load.py --scenario latency-spike               # GenAIHighLatencyP95 / TTFT
    python examples/load.py --scenario error-burst                 # GenAIHighErrorRatio

Each request is the LangChain RAG chain (``langchain_rag.py``), the LlamaIndex query engine
over the same documents (``llamaindex_rag.py``), the LangGraph tool agent (``langgraph_agent.py``)
or a direct chat call, on one of several models and providers priced by
genai-prices (gpt-4o-mini, gpt-4o, o3-mini, claude-3-5-haiku, claude-sonnet-4-5,
mistral-large), for one of several users, tenants and features; about a third stream; some hit a
rate limit (retried once with ``with_retry``), fail for good or time out. The models are
deterministic fakes with realistic usage, so cost is real prices times counted tokens. Telemetry
goes where ``configure()`` sends it: ``OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318`` for
the ``stack/``; ``GENAI_TRACE_METRIC_ATTRIBUTE_KEYS=genai_trace.tenant.id,genai_trace.feature``
fills the Cost dashboard's tenant/feature panels. A share of answers gets user feedback
(``record_feedback``) for the feedback panels. A progress line goes to stderr; a summary
(requests, errors, streaming, tokens and cost by model) to stdout.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import langchain_rag  # noqa: E402
import langgraph_agent  # noqa: E402
import llamaindex_rag  # noqa: E402
from _load_plan import SCENARIOS, Plan, make_plan  # noqa: E402
from _trace_summary import collect, print_cost_summary  # noqa: E402
from langchain_core.language_models import LangSmithParams  # noqa: E402
from langchain_core.messages import BaseMessage  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402
from llama_index.core import VectorStoreIndex  # noqa: E402
from opentelemetry.trace import Status, StatusCode  # noqa: E402

from genai_trace_core import (  # noqa: E402
    Providers,
    attribution,
    configure,
    preload_prices,
    record_feedback,
    trace_ids,
)
from genai_trace_langchain import LangChainInstrumentor  # noqa: E402
from genai_trace_langchain.testing import FakeChatOpenAI  # noqa: E402
from genai_trace_llamaindex import LlamaIndexInstrumentor  # noqa: E402
from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM  # noqa: E402


class RateLimitError(Exception):
    """Stands in for a provider's 429 (retried once)."""


class ProviderTimeoutError(TimeoutError):
    """Stands in for a request that ran out of time."""


class LoadChat(FakeChatOpenAI):
    """The deterministic fake, reporting the provider its model belongs to."""

    provider: str = "openai"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = self.provider
        return params


class LoadLLM(DeterministicLLM):
    """The LlamaIndex fake for one planned request: its model, latency and injected failure
    (``rate_limit_retried`` fails the first call only)."""

    response_model: str = "gpt-4o-mini-2024-07-18"
    delay_s: float = 0.0
    failure: str | None = None
    attempts: int = 0

    def _reply(self, messages: Any, tools: Any) -> Any:
        self.attempts += 1
        time.sleep(self.delay_s)
        if self.failure == "timeout":
            raise ProviderTimeoutError("request timed out after 30s")
        if self.failure == "rate_limit" or (
            self.failure == "rate_limit_retried" and self.attempts == 1
        ):
            raise RateLimitError("429 Too Many Requests")
        return super()._reply(messages, tools)

    def _raw(self, messages: Any, reply: Any, chunk: bool) -> dict[str, Any]:
        raw = super()._raw(messages, reply, chunk)
        raw["model"] = self.response_model
        return raw


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    errors: int = 0
    streamed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_failure: dict[str, int] = field(default_factory=dict)

    def add(self, plan: Plan, failed: bool) -> None:
        with self.lock:
            self.requests += 1
            self.errors += failed
            self.streamed += plan.stream
            self.by_kind[plan.kind] = self.by_kind.get(plan.kind, 0) + 1
            if plan.failure:
                self.by_failure[plan.failure] = self.by_failure.get(plan.failure, 0) + 1


def _answer_fn(plan: Plan, base: Callable[[Sequence[BaseMessage]], Any]) -> Any:
    attempts = [0]

    def answer(messages: Sequence[BaseMessage]) -> Any:
        attempts[0] += 1
        if plan.failure == "timeout":
            raise ProviderTimeoutError("request timed out after 30s")
        if plan.failure == "rate_limit" or (
            plan.failure == "rate_limit_retried" and attempts[0] == 1
        ):
            raise RateLimitError("429 Too Many Requests")
        return base(messages)

    return answer


def _summary(messages: Sequence[BaseMessage]) -> str:
    return "Summary: " + " ".join(str(messages[-1].content).split()[:24])


def _short(messages: Sequence[BaseMessage]) -> str:
    return "The summary is ready."  # five chunks: slow calls stay about 30 s


class Pipelines:
    """The example pipelines, built once; models are made per request (cheap pydantic objects)."""

    def __init__(self) -> None:
        self.store = InMemoryVectorStore(langchain_rag.KeywordEmbeddings(langchain_rag.EMBED_MODEL))
        self.store.add_documents(langchain_rag.load_documents())
        self.index = VectorStoreIndex.from_documents(
            llamaindex_rag.load_documents(), embed_model=DeterministicEmbedding(embed_dim=64)
        )
        self.index.set_index_id("support-docs")

    def chat(self, plan: Plan, base: Callable[[Sequence[BaseMessage]], Any]) -> LoadChat:
        return LoadChat(
            model=plan.model,
            response_model=plan.response_model,
            provider=plan.provider,
            answer_fn=_answer_fn(plan, base),
            delay_s=plan.delay_s,
            reasoning_tokens=plan.reasoning_tokens,
            cached_tokens=64 if plan.kind == "rag" else 0,
        )

    def run_llamaindex(self, plan: Plan, question: str) -> None:
        """The LlamaIndex query engine; a rate limit is retried once by the caller (the app)."""
        llm = LoadLLM(
            model=plan.model,
            response_model=plan.response_model,
            delay_s=plan.delay_s,
            failure=plan.failure,
            cached_tokens=64,
        )
        engine = self.index.as_query_engine(llm=llm, similarity_top_k=2, streaming=plan.stream)
        for attempt in (1, 2):
            try:
                response = engine.query(question)
                if plan.stream:
                    for _ in response.response_gen:  # type: ignore[union-attr]
                        pass
                return
            except RateLimitError:
                if attempt == 2:
                    raise

    def run(self, plan: Plan, question: str) -> None:
        if plan.kind == "rag_llamaindex":
            self.run_llamaindex(plan, question)
            return
        retry: dict[str, Any] = {
            "retry_if_exception_type": (RateLimitError,),
            "stop_after_attempt": 2,
            "wait_exponential_jitter": False,
        }
        config: Any = {"metadata": {"prompt_version": plan.prompt_version}}
        if plan.kind == "agent":
            chat = self.chat(plan, langgraph_agent.scripted_policy)
            agent = langgraph_agent.build_agent(chat)
            agent.with_retry(**retry).invoke({"messages": [("user", question)]}, config=config)
            return
        if plan.kind == "rag":
            chat = self.chat(plan, langchain_rag.extractive_answer)
            runnable: Any = langchain_rag.build_chain(self.store, chat).with_retry(**retry)
        else:
            runnable = self.chat(plan, _summary if plan.delay_s < 1 else _short)
            runnable = runnable.with_retry(**retry)
        if plan.stream:
            for _ in runnable.stream(question, config=config):
                pass
        else:
            runnable.invoke(question, config=config)


QUESTIONS = {
    "rag": langchain_rag.QUESTIONS,
    "rag_llamaindex": langchain_rag.QUESTIONS,
    "agent": langgraph_agent.QUESTIONS,
    "chat": ("Summarise our refund policy for a customer e-mail.", "Shorten this: " + "word " * 40),
}


def one_request(
    pipes: Pipelines, plan: Plan, rng_seed: int, stats: Stats, providers: Providers
) -> None:
    question = QUESTIONS[plan.kind][rng_seed % len(QUESTIONS[plan.kind])]
    tracer = providers.tracer_provider.get_tracer("genai-trace-load")
    failed = False
    with (
        attribution(user_id=plan.user, tenant_id=plan.tenant, feature=plan.feature),
        tracer.start_as_current_span(f"request {plan.feature}") as request,
    ):
        try:
            pipes.run(plan, question)
        except (RateLimitError, TimeoutError) as exc:  # the app answers 503
            request.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            failed = True
        ids = trace_ids()
    if plan.feedback is not None and not failed and ids is not None:
        record_feedback(
            "user_feedback",
            score=plan.feedback,
            label="thumbs_up" if plan.feedback else "thumbs_down",
            trace_id=ids.trace_id,
            span_id=ids.span_id,
            model=plan.model,
            provider=plan.provider,
            feature=plan.feature,
            prompt_version=plan.prompt_version,
            logger_provider=providers.logger_provider,
            meter_provider=providers.meter_provider,
        )
    stats.add(plan, failed)


def run_load(
    providers: Providers,
    *,
    rate: float,
    duration: float,
    scenario: str = "mixed",
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> Stats:
    """Send ``rate`` requests per second for ``duration`` seconds; wait for all to finish."""
    rng = random.Random(seed)
    pipes = Pipelines()
    stats = Stats()
    total = max(1, int(rate * duration))
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=64, thread_name_prefix="load") as pool:
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one_request, pipes, make_plan(rng, scenario), i, stats, providers)
            if progress is not None:
                progress(
                    f"\r[{scenario}] sent {i + 1}/{total}  done {stats.requests}"
                    f"  errors {stats.errors}  streamed {stats.streamed}"
                )
    if progress is not None:
        progress(
            f"\r[{scenario}] done {stats.requests}/{total} in {time.monotonic() - start:.1f}s\n"
        )
    return stats


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="genai-trace load", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--rate", type=float, default=2.0, help="requests per second (default 2)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--scenario", choices=SCENARIOS, default="mixed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--service-name", default="genai-load")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.rate <= 0 or args.duration <= 0:
        print("--rate and --duration must be positive", file=sys.stderr)
        return 2
    preload_prices()
    providers = configure(service_name=args.service_name, console=False)
    collector = collect(providers)
    instrumentors = (LangChainInstrumentor(), LlamaIndexInstrumentor())
    for instrumentor in instrumentors:
        instrumentor.instrument(
            tracer_provider=providers.tracer_provider,
            meter_provider=providers.meter_provider,
            logger_provider=providers.logger_provider,
        )
    try:
        stats = run_load(
            providers,
            rate=args.rate,
            duration=args.duration,
            scenario=args.scenario,
            seed=args.seed,
            progress=lambda line: print(line, end="", file=sys.stderr, flush=True),
        )
    finally:
        for instrumentor in instrumentors:
            instrumentor.uninstrument()
        providers.force_flush()
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_kind.items()))
    failures = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_failure.items())) or "none"
    print(
        f"Requests: {stats.requests} ({kinds}); streamed {stats.streamed}; "
        f"failed {stats.errors}; injected failures: {failures}"
    )
    print_cost_summary(collector)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
