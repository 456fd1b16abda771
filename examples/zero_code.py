"""The LangChain RAG chain of ``langchain_rag.py`` with no tracing code at all: zero-code mode.

    pip install numpy opentelemetry-distro  # the vector store's numpy; the SDK's auto-config
    OTEL_TRACES_EXPORTER=genai_trace OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \\
        opentelemetry-instrument python examples/zero_code.py

``opentelemetry-instrument`` loads every installed instrumentor (ours is the entry point
``genai_trace_langchain``) and builds the providers from the ``OTEL_*`` variables;
``genai_trace`` is genai-trace-core's span exporter: the terminal tree on stderr and the JSONL
file, as ``configure()`` gives. Send the spans to a backend instead with
``OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`` (the distro's default protocol is gRPC).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from langchain_core.vectorstores import InMemoryVectorStore
from langchain_rag import QUESTIONS, build_chain, load_documents, models


def main(argv: Sequence[str] | None = None) -> int:
    questions = list(argv) if argv else list(QUESTIONS[:2])
    chat, embeddings = models(real=False)
    store = InMemoryVectorStore(embeddings)
    store.add_documents(load_documents())
    chain = build_chain(store, chat)
    for question in questions:
        print(f"Q: {question}\nA: {chain.invoke(question)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
