"""Telemetry never breaks the user's program while genai-prices loads in the background.

Every ``Telemetry`` starts loading genai-prices on a background thread. genai-prices imports
``httpx2``, and the ``openai`` SDK reads ``sys.modules["httpx2"]`` on every request without
importing it: a LlamaIndex ``OpenAI.chat`` sent while that import was under way raised
``AttributeError: partially initialized module 'httpx2'`` (most calls in the first second after
``instrument()``). Run in a fresh interpreter, the only place where neither is imported yet."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("httpx2")
pytest.importorskip("llama_index.llms.openai")

PROGRAM = textwrap.dedent(
    """
    import sys, threading
    import httpx
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai import OpenAI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from genai_trace_llamaindex import LlamaIndexInstrumentor

    BODY = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Paris."}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=BODY))
    assert "httpx2" not in sys.modules and "genai_prices" not in sys.modules

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    LlamaIndexInstrumentor().instrument(tracer_provider=provider)
    preload = next(t for t in threading.enumerate() if t.name == "genai-trace-prices")

    answers = []
    while preload.is_alive() or len(answers) < 3:  # calls made while genai-prices loads
        llm = OpenAI(model="gpt-4o-mini", api_key="sk-test", max_retries=0,
                     http_client=httpx.Client(transport=transport))
        try:
            answers.append(llm.chat([ChatMessage(role="user", content="Capital?")]).message.content)
        except Exception as exc:
            answers.append(f"{type(exc).__name__}: {exc}")
    spans = exporter.get_finished_spans()
    shapes = {(s.name, s.kind.name, s.status.status_code.name, s.parent is None) for s in spans}
    print(sorted(set(answers)), len(spans) == len(answers), sorted(shapes))
    """
)


def test_openai_calls_while_genai_prices_loads_are_answered() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENAI_TRACE_")}
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROGRAM],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    # every call answered, each one root chat span that ended without error
    assert out.stdout.strip() == "['Paris.'] True [('chat gpt-4o-mini', 'CLIENT', 'UNSET', True)]"
