"""The terminal tree under many requests at once: an evaluation that sends 300 questions through
``chain.abatch`` (no ``max_concurrency``, so all 300 run together) prints 300 whole trees, one per
question. The console kept at most 256 traces: the 257th request evicted the oldest running
one, whose next span then made a buffer of its own and evicted another, and so on; not one of
the 300 trees came out whole (each printed with 1 or 2 of its 4 spans)."""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter

from inline_snapshot import snapshot
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from opentelemetry.sdk.trace import ReadableSpan

from genai_trace_core.export._console import ConsoleSpanProcessor
from genai_trace_core.testing import OTelHarness, span_tree
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import FakeChatOpenAI

QUESTIONS = 300


def _trees_printed(text: str) -> Counter[str]:
    """Each printed tree with its trace id and durations (and their padding) taken out."""
    text = re.sub(r"^trace [0-9a-f]{32}", "trace ID", text, flags=re.MULTILINE)
    text = re.sub(r" +\d+(\.\d+)?(ms|s)\b", " T", text)
    # the SDK default service name: ``unknown_service`` in older SDKs, with the executable since
    text = re.sub(r"unknown_service(:\w+)?", "unknown_service:python", text)
    return Counter("trace" + tree for tree in text.split("trace")[1:])


def test_an_evaluation_of_300_questions_in_one_abatch_prints_300_whole_trees(
    otel: OTelHarness,
) -> None:
    out = io.StringIO()
    otel.tracer_provider.add_span_processor(ConsoleSpanProcessor(out, color=False))
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = prompt | FakeChatOpenAI(delay_s=0.05) | StrOutputParser()
    inputs = [{"q": f"question {i}"} for i in range(QUESTIONS)]
    with otel.instrumented(LangChainInstrumentor()):
        answers = asyncio.run(chain.abatch(inputs))

    assert answers == [f"Answer: question {i}" for i in range(QUESTIONS)]
    by_trace: dict[int, list[ReadableSpan]] = {}
    for s in otel.spans():
        by_trace.setdefault(s.context.trace_id, []).append(s)
    shapes = [shape(span_tree(spans)) for spans in by_trace.values()]
    assert len(shapes) == QUESTIONS and all(tree == shapes[0] for tree in shapes)
    assert shapes[0] == [
        [
            "invoke_workflow",
            "INTERNAL",
            "UNSET",
            [
                ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ["StrOutputParser", "INTERNAL", "UNSET", []],
            ],
        ]
    ]
    assert _trees_printed(out.getvalue()) == snapshot(
        Counter(
            {
                """\
trace ID · unknown_service:python · 4 spans · T
invoke_workflow T
├── ChatPromptTemplate T
├── chat gpt-4o-mini T  [gpt-4o-mini-2024-07-18]  in 6 out 3  $0.0000027
└── StrOutputParser T
  model                   calls  input  cache  output        cost
  gpt-4o-mini-2024-07-18      1      6      0       3  $0.0000027
""": 300
            }
        )
    )
