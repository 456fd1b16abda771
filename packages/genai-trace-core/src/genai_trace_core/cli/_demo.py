"""``genai-trace demo``: a tiny RAG pipeline traced end to end with core alone (no framework).

Retrieval over a few bundled documents, a deterministic embedding and a deterministic chat model
that reports provider-style usage for a real model name (counted with tiktoken, so the cost
printed is the real price of that many tokens). The framework demos live in ``examples/``.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import uuid
from collections.abc import Sequence

from genai_trace_core.export import configure
from genai_trace_core.lifecycle import Telemetry
from genai_trace_core.records import (
    Document,
    Message,
    Operation,
    OperationKind,
    Outcome,
    RequestParams,
    TextPart,
    Usage,
)
from genai_trace_core.usage import count_tokens

DOCS = (
    ("returns", "Items can be returned within 30 days of delivery with the original receipt."),
    ("shipping", "Standard shipping takes 3 to 5 business days; express takes 1 to 2 days."),
    ("warranty", "Electronics carry a two-year warranty covering manufacturing defects."),
    ("support", "Support is available by chat from 8am to 8pm CET, Monday to Saturday."),
    ("payments", "We accept cards, bank transfer and PayPal; invoices are sent by email."),
)
OTEL_SDK_DISABLED = "OTEL_SDK_DISABLED"  # the SDK's switch: its providers record nothing
CHAT_MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"
DIM = 64


def embed(text: str) -> list[float]:
    """A deterministic bag-of-words hash embedding (unit length)."""
    vec = [0.0] * DIM
    for raw in text.lower().split():
        word = raw.strip(".,;?!:")
        if len(word) <= 3:  # skip short function words
            continue
        h = hashlib.blake2b(word[:5].encode(), digest_size=4).digest()  # crude stemming
        vec[int.from_bytes(h, "big") % DIM] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _stems(text: str) -> set[str]:
    return {w.strip(".,;?!:")[:5] for w in text.lower().split() if len(w.strip(".,;?!:")) > 3}


def _score(question: str, doc: str) -> float:
    """Keyword-stem overlap (the embedding above is for the embeddings span's realism)."""
    q = _stems(question)
    return len(q & _stems(doc)) / (len(q) or 1)


def run_query(t: Telemetry, question: str, *, k: int = 2) -> str:
    root = uuid.uuid4()
    t.start(root, Operation(OperationKind.INVOKE_WORKFLOW, name="support-rag", framework="core"))
    try:
        ret = uuid.uuid4()
        t.start(
            ret,
            Operation(OperationKind.RETRIEVAL, name="handbook", top_k=k, query=question),
            parent_run_id=root,
        )
        emb = uuid.uuid4()
        t.start(
            emb,
            Operation(OperationKind.EMBEDDINGS, provider="openai", request_model=EMBED_MODEL),
            parent_run_id=ret,
        )
        embed(question)
        n, _ = count_tokens([question], EMBED_MODEL)
        t.end(
            emb,
            Outcome(
                raw_usage=Usage(input_tokens=n),
                embedding_dimension=DIM,
                embedding_input_count=1,
                response_model=EMBED_MODEL,
            ),
        )
        ranked = sorted(DOCS, key=lambda d: _score(question, d[1]), reverse=True)[:k]
        t.end(
            ret,
            Outcome(
                documents=[
                    Document(id=i, score=round(_score(question, x), 4), content=x)
                    for i, x in ranked
                ]
            ),
        )
        context = "\n".join(text for _, text in ranked)
        system = "Answer from the context only. Be brief."
        prompt = f"Context:\n{context}\n\nQuestion: {question}"
        chat = uuid.uuid4()
        messages = [Message("system", [TextPart(system)]), Message("user", [TextPart(prompt)])]
        t.start(
            chat,
            Operation(
                OperationKind.CHAT,
                provider="openai",
                request_model=CHAT_MODEL,
                request=RequestParams(temperature=0.0, max_tokens=200),
                input_messages=messages,
            ),
            parent_run_id=root,
        )
        answer = f"According to our handbook: {ranked[0][1]}"
        n_in, _ = count_tokens([system, prompt], CHAT_MODEL)
        n_out, _ = count_tokens([answer], CHAT_MODEL)
        usage = Usage(input_tokens=n_in + 7, output_tokens=n_out)  # +7: chat framing tokens
        t.end(
            chat,
            Outcome(
                raw_usage=usage,
                response_model=f"{CHAT_MODEL}-2024-07-18",
                response_id=f"chatcmpl-{chat.hex[:12]}",
                finish_reasons=["stop"],
                output_messages=[Message("assistant", [TextPart(answer)])],
            ),
        )
        t.end(root)
        return answer
    except BaseException as exc:
        t.fail(root, exc)
        raise


def _sdk_disabled() -> bool:
    """``OTEL_SDK_DISABLED`` as the SDK reads it (``true``, any case): its providers are no-ops."""
    return os.environ.get(OTEL_SDK_DISABLED, "").strip().lower() == "true"


def main(argv: Sequence[str] | None = None) -> int:
    from genai_trace_core.usage import preload_prices

    for model in (CHAT_MODEL, EMBED_MODEL):  # the fake provider's tokenizers: load before tracing
        count_tokens(["warm up"], model)
    preload_prices()
    providers = configure(service_name="genai-trace-demo")
    telemetry = Telemetry(
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        logger_provider=providers.logger_provider,
    )
    questions = (
        list(argv)
        if argv
        else [
            "How long do I have to return an item?",
            "When is support available by chat?",
        ]
    )
    for q in questions:
        answer = run_query(telemetry, q)
        print(f"Q: {q}\nA: {answer}\n")
    providers.force_flush()
    if _sdk_disabled():  # the providers record nothing: no tree, no file
        print(
            f"Tracing is disabled by {OTEL_SDK_DISABLED}=true: no spans were recorded "
            f"(unset {OTEL_SDK_DISABLED} to see the traces)",
            file=sys.stderr,
        )
    elif providers.jsonl_path is not None:
        print(
            f"Spans written to {providers.jsonl_path}; read them with: "
            f"genai-trace view {providers.jsonl_path}",
            file=sys.stderr,
        )
    return 0
