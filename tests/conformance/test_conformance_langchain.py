"""Real ``ChatOpenAI``, ``OpenAIEmbeddings`` and LangGraph ``create_react_agent`` over OpenAI's
wire format, content capture off and on: every span, metric and log record must conform.

Two recommended attributes LangChain drops (the response id of a streamed chat, the response
model of embeddings) are known gaps on their own, asserted as such; with a util-genai provider
instrumentation (``opentelemetry-instrumentation-genai-openai``) beside ours, which hands them
back, the same scenarios must show none."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
from conformance_check import (
    check_logs,
    check_metrics,
    check_span,
    check_token_points,
    metric_points,
)
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from openai_wire import OpenAIWire, chat_completion, chat_stream, embeddings, usage

from genai_trace_core.testing import OTelHarness, provider_instrumented
from genai_trace_langchain import OpenTelemetryCallbackHandler, trace_embeddings

langchain_openai = pytest.importorskip("langchain_openai")
prebuilt = pytest.importorskip("langgraph.prebuilt")

KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"
MODES = ["NO_CONTENT", "SPAN_AND_EVENT"]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": {"message": "boom", "type": "server_error"}})


def _run(
    otel: OTelHarness, mode: str, scenario: Any, *replies: Any, beside: str | None = None
) -> list[str]:
    """Violations of ``scenario`` run over ``replies``; ``beside``: a provider instrumentation
    (``PROVIDER_INSTRUMENTATIONS`` name) instrumented on the same providers for the run."""
    wire = OpenAIWire(*replies)
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode=mode))
    with contextlib.ExitStack() as stack:
        if beside is not None:
            stack.enter_context(provider_instrumented(otel, beside))
        sync = stack.enter_context(wire.client())
        chat = langchain_openai.ChatOpenAI(
            model="gpt-4o-mini", api_key=KEY, http_client=sync, max_retries=0
        )
        scenario(chat, handler, sync)
    spans = otel.spans()
    assert spans, "the scenario produced no spans"
    capture = mode != "NO_CONTENT"
    metrics = metric_points(otel.metric_reader)
    violations = [v for s in spans for v in check_span(s, spans, capture)]
    violations += check_metrics(metrics)
    violations += check_token_points(spans, metrics)
    violations += check_logs(otel.logs(), spans, capture)
    return violations


def _reply(**kw: Any) -> Any:
    return chat_completion(model="gpt-4o-mini-2024-07-18", **kw)


@pytest.mark.parametrize("mode", MODES)
def test_chat_with_cached_and_reasoning_tokens(otel: OTelHarness, mode: str) -> None:
    def scenario(chat: Any, handler: Any, _: Any) -> None:
        chat.invoke("Capital of France?", {"callbacks": [handler]})

    reply = _reply(
        response_id="chatcmpl-1", content="Paris.", token_usage=usage(1200, 40, cached=1024)
    )
    assert _run(otel, mode, scenario, reply) == []


def _streamed_chat(chat: Any, handler: Any, _: Any) -> None:
    chat = chat.bind(stream_options={"include_usage": True})
    assert "".join(str(c.content) for c in chat.stream("Hi", {"callbacks": [handler]}))


STREAM = chat_stream(
    response_id="chatcmpl-s",
    model="gpt-4o-mini-2024-07-18",
    pieces=["Hel", "lo"],
    token_usage=usage(9, 2, reasoning=1),
)


@pytest.mark.parametrize("mode", MODES)
def test_streamed_chat_with_usage(otel: OTelHarness, mode: str) -> None:
    # KNOWN GAP without a util-genai provider instrumentation: langchain-openai replaces every
    # streamed chunk's id with its run id, so the response id never reaches a callback.
    # Asserted present, so a fix upstream shows up here.
    gap = "span 'chat gpt-4o-mini': recommended gen_ai.response.id missing"
    assert _run(otel, mode, _streamed_chat, STREAM) == [gap]
    [span] = otel.spans()
    assert span.attributes is not None and span.attributes["gen_ai.request.stream"] is True


@pytest.mark.parametrize("mode", MODES)
def test_streamed_chat_beside_genai_openai_has_no_gap(otel: OTelHarness, mode: str) -> None:
    assert _run(otel, mode, _streamed_chat, STREAM, beside="genai-openai") == []
    [span] = otel.spans()  # the provider's span suppressed: one span, with the response id
    assert span.attributes is not None and span.attributes["gen_ai.response.id"] == "chatcmpl-s"


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
@pytest.mark.parametrize("mode", MODES)
def test_react_agent_with_a_tool_call(otel: OTelHarness, mode: str) -> None:
    def scenario(chat: Any, handler: Any, _: Any) -> None:
        agent = prebuilt.create_react_agent(chat, [get_weather], name="weather_agent")
        agent.invoke({"messages": [("user", "Weather in Paris?")]}, {"callbacks": [handler]})

    call = {"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}
    replies = [
        _reply(response_id="c-1", content=None, token_usage=usage(50, 10), tool_calls=[call]),
        _reply(response_id="c-2", content="Sunny.", token_usage=usage(70, 5)),
    ]
    assert _run(otel, mode, scenario, *replies) == []
    agent = next(s for s in otel.spans() if s.name.startswith("invoke_agent"))
    assert agent.attributes is not None
    a = agent.attributes
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (120, 15)


@pytest.mark.parametrize("mode", MODES)
def test_hand_built_tool_loop_under_the_instrumentor(otel: OTelHarness, mode: str) -> None:
    """A StateGraph tool loop whose name does not say "agent": the instrumentor marks it at
    compile (it has a ``ToolNode``), so it is an agent and its tool runs on the agent's behalf."""
    from langgraph.graph import START, MessagesState, StateGraph

    from genai_trace_langchain import LangChainInstrumentor

    def scenario(chat: Any, handler: Any, _: Any) -> None:
        model = chat.bind_tools([get_weather])
        inst = LangChainInstrumentor()
        inst.instrument(telemetry=handler.telemetry)
        try:
            g = StateGraph(MessagesState)
            g.add_node("model", lambda state: {"messages": [model.invoke(state["messages"])]})
            g.add_node("tools", prebuilt.ToolNode([get_weather]))
            g.add_edge(START, "model")
            g.add_conditional_edges("model", prebuilt.tools_condition)
            g.add_edge("tools", "model")
            g.compile(name="weather_graph").invoke({"messages": [("user", "Weather in Paris?")]})
        finally:
            inst.uninstrument()

    call = {"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}
    replies = [
        _reply(response_id="c-1", content=None, token_usage=usage(50, 10), tool_calls=[call]),
        _reply(response_id="c-2", content="Sunny.", token_usage=usage(70, 5)),
    ]
    assert _run(otel, mode, scenario, *replies) == []
    ops = {
        s.name: (s.attributes or {}).get("gen_ai.agent.name")
        for s in otel.spans()
        if (s.attributes or {}).get("gen_ai.operation.name")
    }
    assert ops == {
        "invoke_agent weather_graph": "weather_graph",
        "chat gpt-4o-mini": None,
        "execute_tool get_weather": "weather_graph",
    }


@pytest.mark.parametrize("mode", MODES)
def test_a_500_is_an_error_span_with_an_exception_event(otel: OTelHarness, mode: str) -> None:
    def scenario(chat: Any, handler: Any, _: Any) -> None:
        with pytest.raises(Exception, match="boom"):
            chat.invoke("Hi", {"callbacks": [handler]})

    assert _run(otel, mode, scenario, _server_error) == []
    [record] = [r for r in otel.logs() if r.event_name == "gen_ai.client.operation.exception"]
    assert record.attributes is not None and record.attributes["error.type"]


def _embeddings_and_retrieval(chat: Any, handler: Any, sync: Any) -> None:
    emb = langchain_openai.OpenAIEmbeddings(
        model="text-embedding-3-small", api_key=KEY, http_client=sync, max_retries=0
    )
    store = InMemoryVectorStore(trace_embeddings(emb, handler=handler))
    store.add_texts(["Paris is in France.", "Berlin is in Germany."])
    docs = store.as_retriever(search_kwargs={"k": 1}).invoke(
        "France?", config={"callbacks": [handler]}
    )
    assert len(docs) == 1


@pytest.mark.parametrize("mode", MODES)
def test_embeddings_and_retrieval(otel: OTelHarness, mode: str) -> None:
    # KNOWN GAP without a util-genai provider instrumentation: langchain-openai's embeddings
    # return the vectors only, so the response model never reaches us (two calls, two spans).
    gap = "span 'embeddings text-embedding-3-small': recommended gen_ai.response.model missing"
    assert _run(otel, mode, _embeddings_and_retrieval, embeddings(dimensions=8)) == [gap, gap]
    names = sorted({s.name for s in otel.spans()})
    assert names == ["embeddings text-embedding-3-small", "retrieval"]


@pytest.mark.parametrize("mode", MODES)
def test_embeddings_beside_genai_openai_have_no_gap(otel: OTelHarness, mode: str) -> None:
    reply = embeddings(dimensions=8)
    assert _run(otel, mode, _embeddings_and_retrieval, reply, beside="genai-openai") == []
    models = {
        (s.attributes or {}).get("gen_ai.response.model")
        for s in otel.spans()
        if s.name.startswith("embeddings")
    }
    assert models == {"text-embedding-3-small"}
