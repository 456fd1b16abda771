"""A model call made inside another one of ours (``StructuredLLM`` -> ``structured_predict`` ->
the wrapped model, a user's wrapper model): one HTTP request is one ``chat`` span, with the
provider's usage and one cost, in the one trace of the request, every span ended. The real
``llama_index.llms.openai.OpenAI`` over ``httpx.MockTransport``: no network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from li_lifecycle import Lifecycle, traces
from li_openai_wire import API_KEY
from li_support import Instrument, shape
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.llms import ChatMessage, CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.prompts import PromptTemplate
from llama_index.llms.openai import OpenAI
from pydantic import BaseModel

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import LlamaIndexInstrumentor

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")

ANSWER = '{"name": "Alice", "age": 40}'
USAGE = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
COST = 100 * 0.15e-6 + 10 * 0.6e-6  # gpt-4o-mini: $0.15 / $0.60 per million tokens
MESSAGES = [ChatMessage(role="user", content="Who is Alice?")]


class Person(BaseModel):
    name: str
    age: int


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
    payload: dict[str, Any] = {
        "id": "chatcmpl-nested",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": choices,
    }
    if usage:
        payload["usage"] = usage
    return f"data: {json.dumps(payload)}\n\n"


def _answer(
    requests: list[str], fail: bool, finishes: list[str]
) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        if fail:
            return httpx.Response(500, json={"error": {"message": "down", "type": "server_error"}})
        body = json.loads(request.content)
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": ANSWER}
            finish = "stop"
            if body.get("tools"):  # older llama-index-llms-openai asks for a function call
                call = {"name": body["tools"][0]["function"]["name"], "arguments": ANSWER}
                message = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "call_1", "type": "function", "function": call}],
                }
                finish = "tool_calls"
            finishes.append(finish)
            return httpx.Response(
                200,
                json={
                    "id": "chatcmpl-nested",
                    "object": "chat.completion",
                    "created": 1700000000,
                    "model": "gpt-4o-mini-2024-07-18",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": USAGE,
                },
            )
        assert body["stream_options"] == {"include_usage": True}
        events = [_chunk({"role": "assistant", "content": ""})]
        events += [_chunk({"content": part}) for part in (ANSWER[:12], ANSWER[12:])]
        events += [_chunk({}, finish="stop"), _chunk({}, usage=USAGE), "data: [DONE]\n\n"]
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, text="".join(events), headers=headers)

    return answer


def _openai(requests: list[str], fail: bool = False, finishes: list[str] | None = None) -> OpenAI:
    transport = httpx.MockTransport(_answer(requests, fail, [] if finishes is None else finishes))
    return OpenAI(
        model="gpt-4o-mini",
        api_key=API_KEY,
        temperature=0.2,
        additional_kwargs={"stream_options": {"include_usage": True}},  # usage on the wire
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        max_retries=0,
    )


def _structured_chat(llm: OpenAI) -> Any:
    return llm.as_structured_llm(Person).chat(MESSAGES).message.content


def _structured_achat(llm: OpenAI) -> Any:
    return asyncio.run(llm.as_structured_llm(Person).achat(MESSAGES)).message.content


def _structured_stream_chat(llm: OpenAI) -> Any:
    return [r.message.content for r in llm.as_structured_llm(Person).stream_chat(MESSAGES)][-1]


def _structured_astream_chat(llm: OpenAI) -> Any:
    async def run() -> Any:
        stream = await llm.as_structured_llm(Person).astream_chat(MESSAGES)
        return [r.message.content async for r in stream][-1]

    return asyncio.run(run())


def _structured_predict(llm: OpenAI) -> Any:
    prompt = PromptTemplate("Who is {who}?")
    return llm.structured_predict(Person, prompt, who="Alice").model_dump_json()


def _astructured_predict(llm: OpenAI) -> Any:
    prompt = PromptTemplate("Who is {who}?")
    return asyncio.run(llm.astructured_predict(Person, prompt, who="Alice")).model_dump_json()


CALLS: dict[str, tuple[Callable[[OpenAI], Any], bool, bool]] = {
    # entry point: (call, streamed, marked as structured output)
    "as_structured_llm.chat": (_structured_chat, False, True),
    "as_structured_llm.achat": (_structured_achat, False, True),
    "as_structured_llm.stream_chat": (_structured_stream_chat, True, True),
    "as_structured_llm.astream_chat": (_structured_astream_chat, True, True),
    "structured_predict": (_structured_predict, False, True),
    "astructured_predict": (_astructured_predict, False, True),
}


def _assert_one_model_call(
    otel: OTelHarness, instrumentor: LlamaIndexInstrumentor, name: str, tool: bool = False
) -> dict[str, Any]:
    """The whole tree is ``request`` > one ``name`` span, in one trace; its attributes. With
    ``tool`` the model's function call ran too: under the call it was made in, or after it."""
    trees = [[["request", [[name, []]]]]]
    if tool:
        run = ["execute_tool Person", []]
        trees = [[["request", [[name, [run]]]]], [["request", [[name, []], run]]]]
    assert shape(otel.tree(attributes=False)) in trees
    assert len(traces(otel)) == 1
    (span,) = (d for d in otel.span_dicts() if d["name"] == name)
    metrics = otel.metrics()
    assert sum(p["count"] for p in metrics[s.METRIC_INFERENCE_DURATION]) == 1
    assert sum(p["value"] for p in metrics[s.METRIC_USAGE_INPUT_TOKENS]) == 100
    assert sum(p["value"] for p in metrics[s.METRIC_COST]) == pytest.approx(COST)
    _assert_nothing_kept(instrumentor)
    return span["attributes"]  # type: ignore[no-any-return]


def _assert_nothing_kept(instrumentor: LlamaIndexInstrumentor) -> None:
    """No run open, no bookkeeping left for the call."""
    bridge = instrumentor._handlers[0].bridge  # type: ignore[index]
    models = bridge.models
    assert bridge.telemetry.open_count() == 0
    assert (bridge.spans.entries, models.within, models.nested, models.folds) == ({}, {}, {}, {})
    assert (len(models.streams), models.structured) == (0, set())


@pytest.mark.parametrize("entry", list(CALLS))
def test_a_structured_call_is_one_chat_span_with_the_providers_usage_and_one_cost(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, entry: str
) -> None:
    instrumentor = instrument()
    call, streamed, structured = CALLS[entry]
    requests: list[str] = []
    finishes: list[str] = []
    llm = _openai(requests, finishes=finishes)
    with otel.tracer_provider.get_tracer("app").start_as_current_span("request"):
        output = call(llm)

    assert json.loads(output) == {"name": "Alice", "age": 40}
    assert requests == ["/v1/chat/completions"]  # one model call on the wire
    # llama-index-llms-openai 0.4 asks for a function call and runs it: the Person "tool"
    a = _assert_one_model_call(otel, instrumentor, "chat gpt-4o-mini", finishes == ["tool_calls"])
    keys = (
        s.GEN_AI_OPERATION_NAME,
        s.GEN_AI_PROVIDER_NAME,
        s.GEN_AI_REQUEST_MODEL,
        s.GEN_AI_REQUEST_TEMPERATURE,
        s.SERVER_ADDRESS,
        s.GEN_AI_RESPONSE_MODEL,
        s.GEN_AI_RESPONSE_ID,
        s.GEN_AI_RESPONSE_FINISH_REASONS,
        s.GEN_AI_USAGE_INPUT_TOKENS,
        s.GEN_AI_USAGE_OUTPUT_TOKENS,
        s.USAGE_SOURCE,
    )
    assert {k: a.get(k) for k in keys} == {
        s.GEN_AI_OPERATION_NAME: "chat",
        s.GEN_AI_PROVIDER_NAME: "openai",
        s.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        s.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        s.SERVER_ADDRESS: "api.openai.com",
        s.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        s.GEN_AI_RESPONSE_ID: "chatcmpl-nested",
        s.GEN_AI_RESPONSE_FINISH_REASONS: finishes or ["stop"],  # as answered (streams: stop)
        s.GEN_AI_USAGE_INPUT_TOKENS: 100,
        s.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
        s.USAGE_SOURCE: "provider",
    }
    assert a[s.COST_USD] == pytest.approx(COST)
    assert not any(k.startswith("genai_trace.usage.estimated") for k in a)
    assert (s.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in a) is streamed
    assert a.get(s.GEN_AI_OUTPUT_TYPE) == ("json" if structured else None)
    lifecycle.check()


@pytest.mark.parametrize("entry", [e for e in CALLS if e.startswith("as_structured_llm")])
def test_a_failed_structured_call_is_one_error_span_and_leaves_nothing_open(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, entry: str
) -> None:
    instrumentor = instrument()
    requests: list[str] = []
    with (
        otel.tracer_provider.get_tracer("app").start_as_current_span("request"),
        pytest.raises(openai.InternalServerError),
    ):
        CALLS[entry][0](_openai(requests, fail=True))

    assert requests == ["/v1/chat/completions"]
    assert shape(otel.tree(attributes=False)) == [["request", [["chat gpt-4o-mini", []]]]]
    (span,) = (d for d in otel.span_dicts() if d["name"] == "chat gpt-4o-mini")
    assert (span["status"], span["attributes"][s.ERROR_TYPE]) == (
        "ERROR",
        "openai.InternalServerError",
    )
    _assert_nothing_kept(instrumentor)
    lifecycle.check()


dispatcher = get_dispatcher(__name__)


class Router(CustomLLM):
    """A user's wrapper model: its calls go to another model through a helper span."""

    inner: OpenAI
    model: str = "gpt-4o-mini"  # what the span is named by (llama-index-core 0.12 reads this)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="gpt-4o-mini")

    @dispatcher.span
    def route(self) -> OpenAI:
        return self.inner

    @dispatcher.span
    def ask(self, prompt: str, stream: bool) -> Any:
        llm = self.route()
        messages = [ChatMessage(role="user", content=prompt)]
        return llm.stream_chat(messages) if stream else llm.chat(messages)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.ask(prompt, False).message.content or "")

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        text = ""
        for r in self.ask(prompt, True):  # the inner stream is read by this one's steps
            text += r.delta or ""
            yield CompletionResponse(text=text, delta=r.delta)


@pytest.mark.parametrize("method", ["complete", "chat", "stream_complete", "stream_chat"])
def test_a_wrapper_model_and_the_model_it_calls_are_one_span_with_the_inner_usage(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, method: str
) -> None:
    instrumentor = instrument()
    requests: list[str] = []
    router = Router(inner=_openai(requests))
    with otel.tracer_provider.get_tracer("app").start_as_current_span("request"):
        if method == "complete":
            text = router.complete("Who is Alice?").text
        elif method == "chat":  # CustomLLM: chat -> complete -> the inner chat
            text = router.chat(MESSAGES).message.content or ""
        elif method == "stream_complete":
            text = [r.text for r in router.stream_complete("Who is Alice?")][-1]
        else:
            text = [r.message.content or "" for r in router.stream_chat(MESSAGES)][-1]

    assert text == ANSWER
    assert requests == ["/v1/chat/completions"]
    op = "chat" if method.endswith("chat") else "text_completion"
    a = _assert_one_model_call(otel, instrumentor, f"{op} gpt-4o-mini")
    assert (a[s.GEN_AI_USAGE_INPUT_TOKENS], a[s.GEN_AI_USAGE_OUTPUT_TOKENS]) == (100, 10)
    assert (a[s.USAGE_SOURCE], a[s.GEN_AI_RESPONSE_MODEL]) == ("provider", "gpt-4o-mini-2024-07-18")
    assert a[s.COST_USD] == pytest.approx(COST)
    lifecycle.check()
