"""OpenInference's OpenAI instrumentation beside genai-trace: what docs/guarantees.md says of it.

``openinference-instrumentation-openai`` stands down only for OpenTelemetry's global
``suppress_instrumentation`` key, which would silence every other instrumentation (HTTP clients
and their trace-context headers) too, so genai-trace does not set it. Its ``ChatCompletion``
span (OpenInference kind LLM, ``llm.token_count.*``, no ``gen_ai.*`` and no metrics) nests under
ours, in the same trace, in sync, async and streamed calls of both integrations. genai-trace's
token metrics count the call once; a backend that sums OpenInference token counts (Phoenix) sees
the call twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openai_wire import OpenAIWire, chat_completion, chat_stream, usage

from genai_trace_core.testing import OTelHarness, tree_shape

pytest.importorskip("openinference.instrumentation.openai")
pytest.importorskip("langchain_openai")
pytest.importorskip("llama_index.llms.openai")
import langchain_openai
import llama_index.llms.openai as llms_openai
from llama_index.core.llms import ChatMessage
from openinference.instrumentation.openai import OpenAIInstrumentor

from genai_trace_langchain import LangChainInstrumentor
from genai_trace_llamaindex import LlamaIndexInstrumentor

KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"
MODEL = "gpt-4o-mini-2024-07-18"
MESSAGES = [ChatMessage(role="user", content="Capital of France?")]


def _langchain(wire: OpenAIWire, call: str) -> str:
    chat = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key=KEY,
        http_client=wire.client(),
        http_async_client=wire.async_client(),
        max_retries=0,
        stream_usage=True,
    )
    if call == "invoke":
        return str(chat.invoke("Capital of France?").content)
    if call == "ainvoke":
        return str(asyncio.run(chat.ainvoke("Capital of France?")).content)
    return "".join(str(c.content) for c in chat.stream("Capital of France?"))


def _llamaindex(wire: OpenAIWire, call: str) -> str:
    llm = llms_openai.OpenAI(
        model="gpt-4o-mini",
        api_key=KEY,
        http_client=wire.client(),
        async_http_client=wire.async_client(),
        max_retries=0,
    )
    if call == "invoke":
        return str(llm.chat(MESSAGES).message.content)
    if call == "ainvoke":
        return str(asyncio.run(llm.achat(MESSAGES)).message.content)
    stream = llm.stream_chat(MESSAGES, stream_options={"include_usage": True})
    return "".join(r.delta or "" for r in stream)


FRAMEWORKS: dict[str, tuple[Any, Callable[[OpenAIWire, str], str]]] = {
    "langchain": (LangChainInstrumentor, _langchain),
    "llamaindex": (LlamaIndexInstrumentor, _llamaindex),
}


@contextlib.contextmanager
def _both(otel: OTelHarness, framework: str) -> Iterator[None]:
    with otel.instrumented(OpenAIInstrumentor()), otel.instrumented(FRAMEWORKS[framework][0]()):
        yield


def _token_points(otel: OTelHarness) -> dict[str, Any]:
    return {
        name: [p["value"] for p in points]
        for name, points in otel.metrics().items()
        if name.startswith("gen_ai.client.inference.usage.")
    }


@pytest.mark.parametrize("call", ["invoke", "ainvoke", "stream"])
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_openinference_span_nests_under_ours_and_tokens_count_once(
    otel: OTelHarness, framework: str, call: str
) -> None:
    token_usage = usage(1200, 40, cached=1024)
    reply = (
        chat_stream(response_id="r-1", model=MODEL, pieces=["Par", "is."], token_usage=token_usage)
        if call == "stream"
        else chat_completion(
            response_id="r-1", model=MODEL, content="Paris.", token_usage=token_usage
        )
    )
    with _both(otel, framework):
        answer = FRAMEWORKS[framework][1](OpenAIWire(reply), call)

    assert answer == "Paris."
    assert tree_shape(otel.tree()) == [
        ["chat gpt-4o-mini", "CLIENT", "UNSET", [["ChatCompletion", "INTERNAL", "OK", []]]]
    ]
    assert len({s.context.trace_id for s in otel.spans()}) == 1
    ours = otel.tree()[0]
    theirs = ours["children"][0]["attributes"]
    assert ours["attributes"]["gen_ai.usage.input_tokens"] == 1200
    assert (theirs["llm.token_count.prompt"], theirs["openinference.span.kind"]) == (1200, "LLM")
    assert not [k for k in theirs if k.startswith("gen_ai.")]
    assert _token_points(otel) == {
        "gen_ai.client.inference.usage.input_tokens": [1200],
        "gen_ai.client.inference.usage.output_tokens": [40],
        "gen_ai.client.inference.usage.cache_read.input_tokens": [1024],
        "gen_ai.client.inference.usage.reasoning.output_tokens": [0],
    }
