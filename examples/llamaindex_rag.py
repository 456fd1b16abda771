"""A LlamaIndex ``VectorStoreIndex`` query engine over ``examples/data/``, traced with
genai-trace-llamaindex.

    python examples/llamaindex_rag.py                  # offline: deterministic models, no key
    python examples/llamaindex_rag.py "Can I return a sale item?"
    OPENAI_API_KEY=sk-... python examples/llamaindex_rag.py --real

Two questions are asked, the second one streamed. ``configure()`` prints every trace as a tree
on stderr; answers and the run's cost summary go to stdout. Offline, the models are
``genai_trace_llamaindex.testing``'s deterministic ``gpt-4o-mini`` look-alike (OpenAI-shaped usage)
and ``text-embedding-3-small``-named embeddings, so costs are gpt-4o-mini's real prices for the
counted tokens. ``--real`` uses llama-index-llms-openai / llama-index-embeddings-openai.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _offline import answer_from_prompt, stem_vector
from _trace_summary import collect, example_args, print_cost_summary
from llama_index.core import Document, Settings, VectorStoreIndex

from genai_trace_core import configure
from genai_trace_llamaindex import LlamaIndexInstrumentor

DATA = Path(__file__).resolve().parent / "data"
QUESTIONS = ("How long do I have to return an item?", "How much does express shipping cost?")


def load_documents() -> list[Document]:
    return [
        Document(text=path.read_text(encoding="utf-8"), id_=path.stem)
        for path in sorted(DATA.glob("*.md"))
    ]


def _extractive_llm() -> Any:
    """The package's deterministic gpt-4o-mini stand-in, answering extractively from the context
    (realistic OpenAI-style usage for the real model name, so the cost is real)."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    from genai_trace_llamaindex.testing import DeterministicLLM

    class ExtractiveLLM(DeterministicLLM):
        def _reply(self, messages: Sequence[ChatMessage], tools: Any) -> ChatMessage:
            prompt = next((m.content for m in reversed(messages) if m.role == MessageRole.USER), "")
            return ChatMessage(role=MessageRole.ASSISTANT, content=answer_from_prompt(prompt or ""))

    return ExtractiveLLM()


def _keyword_embedding() -> Any:
    from genai_trace_llamaindex.testing import DeterministicEmbedding

    class KeywordEmbedding(DeterministicEmbedding):
        def _vector(self, text: str) -> list[float]:
            return stem_vector(text, self.embed_dim)

    return KeywordEmbedding(embed_dim=64)


def use_models(real: bool) -> None:
    if real:
        from llama_index.embeddings.openai import OpenAIEmbedding
        from llama_index.llms.openai import OpenAI

        Settings.llm = OpenAI(model="gpt-4o-mini")
        Settings.embed_model = OpenAIEmbedding(model="text-embedding-3-small")
    else:
        Settings.llm = _extractive_llm()
        Settings.embed_model = _keyword_embedding()


def main(argv: Sequence[str] | None = None) -> int:
    parsed = example_args(__doc__, argv, QUESTIONS)
    if parsed is None:
        return 2
    questions, real = parsed
    providers = configure(service_name="llamaindex-rag-example")
    collector = collect(providers)
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        logger_provider=providers.logger_provider,
    )
    try:
        use_models(real)
        index = VectorStoreIndex.from_documents(load_documents())
        index.set_index_id("support-docs")
        for i, question in enumerate(questions):
            streaming = i == len(questions) - 1 and len(questions) > 1
            engine = index.as_query_engine(similarity_top_k=2, streaming=streaming)
            print(f"Q: {question}")
            response = engine.query(question)
            if streaming:
                print("A (streamed): ", end="")
                for token in response.response_gen:  # type: ignore[union-attr]
                    print(token, end="", flush=True)
                print()
            else:
                print(f"A: {response}")
        providers.tracer_provider.force_flush()
        print_cost_summary(collector)
    finally:
        instrumentor.uninstrument()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
