"""LCEL RAG over the bundled documents (``examples/data/``), traced with genai-trace-langchain.

    python examples/langchain_rag.py                  # offline: deterministic models, no key
    python examples/langchain_rag.py "Can I return a sale item?"
    OPENAI_API_KEY=sk-... python examples/langchain_rag.py --real

The chain is ``{context: retriever | format_docs, question} | prompt | chat | parser`` over an
``InMemoryVectorStore``. Three questions are asked, the last one streamed. ``configure()`` prints
every trace as a tree on stderr and appends its spans to ``./.genai-trace/traces.jsonl``
(``genai-trace view`` reads it back); answers and the run's cost summary go to stdout.

Offline (the default), the models are the deterministic fakes of ``genai_trace_langchain.testing``
(``FakeChatOpenAI`` answers with the best-matching sentence of the retrieved context and reports
OpenAI-style usage for ``gpt-4o-mini``; the embeddings are keyword vectors named
``text-embedding-3-small``), so the costs are gpt-4o-mini's real prices for the counted tokens.
With ``--real`` and ``OPENAI_API_KEY`` set it uses langchain-openai's ``ChatOpenAI`` and
``OpenAIEmbeddings``; that path is present but not run by the test suite (no network there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _offline import answer_from_prompt, stem_vector
from _trace_summary import collect, example_args, print_cost_summary
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from genai_trace_core import configure, count_tokens, preload_prices
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

DATA = Path(__file__).resolve().parent / "data"
CHAT_MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"
QUESTIONS = (
    "How long do I have to return an item?",
    "When is chat support available?",
    "How much does express shipping cost?",  # streamed
)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"what", "when", "which", "does", "have", "much", "long", "with", "from", "that"})


def load_documents() -> list[Document]:
    """One document per file: the heading is the title, the paragraph is the content."""
    docs = []
    for path in sorted(DATA.glob("*.md")):
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        title = lines[0].lstrip("# ").strip()
        body = " ".join(line.strip() for line in lines[1:] if line.strip())
        docs.append(Document(body, id=path.stem, metadata={"source": path.name, "title": title}))
    return docs


class KeywordEmbeddings(DeterministicEmbeddings):
    """Offline embeddings that retrieve sensibly (keyword-stem vectors)."""

    def _vector(self, text: str) -> list[float]:
        return stem_vector(text, self.size)


def extractive_answer(messages: Sequence[BaseMessage]) -> str:
    """The offline model's answer: the context sentence sharing most word stems with the
    question (the prompt puts the context first and the question last)."""
    return answer_from_prompt(str(messages[-1].content))


def models(real: bool) -> tuple[BaseChatModel, Embeddings]:
    if real:
        from langchain_openai import ChatOpenAI, OpenAIEmbeddings

        return ChatOpenAI(model=CHAT_MODEL, temperature=0, stream_usage=True), OpenAIEmbeddings(
            model=EMBED_MODEL
        )
    chat = FakeChatOpenAI(model=CHAT_MODEL, answer_fn=extractive_answer, delay_s=0.005)
    return chat, KeywordEmbeddings(model=EMBED_MODEL)


def _format_docs(docs: list[Document]) -> str:
    return "\n".join(f"[{d.metadata['title']}] {d.page_content}" for d in docs)


def build_chain(store: InMemoryVectorStore, chat: BaseChatModel) -> Runnable[str, str]:
    retriever = store.as_retriever(search_kwargs={"k": 2})
    format_docs = RunnableLambda(_format_docs).with_config(run_name="format_docs")
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer from the context only, in one sentence."),
            ("user", "{context}\n\nQuestion: {question}"),
        ]
    )
    prompt.name = "support-answer"  # a named template: gen_ai.prompt.name on the chat span
    return (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | chat
        | StrOutputParser()
    ).with_config(run_name="support_rag")


def main(argv: Sequence[str] | None = None) -> int:
    parsed = example_args(__doc__, argv, QUESTIONS)
    if parsed is None:
        return 2
    questions, real = parsed
    for model in (CHAT_MODEL, EMBED_MODEL):  # tokenizers and prices load before tracing starts
        count_tokens(["warm up"], model)
    preload_prices()

    providers = configure(service_name="langchain-rag-example")
    collector = collect(providers)
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        logger_provider=providers.logger_provider,
    )
    try:
        chat, embeddings = models(real)
        store = InMemoryVectorStore(embeddings)
        store.add_documents(load_documents())  # indexing: one embeddings trace of its own
        chain = build_chain(store, chat)
        config: Any = {"metadata": {"session_id": "example-session", "user_id": "example-user"}}
        for i, question in enumerate(questions):
            print(f"Q: {question}")
            if i == len(questions) - 1 and len(questions) > 1:
                print("A (streamed): ", end="", flush=True)
                for piece in chain.stream(question, config=config):
                    print(piece, end="", flush=True)
                print("\n")
            else:
                print(f"A: {chain.invoke(question, config=config)}\n")
    finally:
        instrumentor.uninstrument()
        providers.force_flush()
    print_cost_summary(collector)
    if providers.jsonl_path is not None:
        print(f"\nSpans appended to {providers.jsonl_path} (read them: genai-trace view FILE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
