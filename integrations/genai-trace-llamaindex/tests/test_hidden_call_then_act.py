"""``predict_and_call`` under a hidden dispatcher span is one trace, as at the root: a
``FunctionCallingProgram`` called directly (its ``__call__`` is a dispatcher span of no operation)
and a ``PydanticSingleSelector.select`` made the chat and the tool it chose two traces of their
own. Under a span of ours or of the app it adds no step, nor inside a structured predict's model
call (``test_li8_predict_and_call``). The real
``llama_index.llms.openai.OpenAI`` over ``httpx.MockTransport``: no network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from li_lifecycle import Lifecycle
from li_openai_wire import answer, openai_clients
from li_support import Instrument
from llama_index.core import VectorStoreIndex
from llama_index.core.base.base_selector import SingleSelection
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.llms import LLM
from llama_index.core.program import FunctionCallingProgram
from llama_index.core.query_engine import RouterQueryEngine
from llama_index.core.selectors import PydanticSingleSelector
from llama_index.core.selectors.prompts import DEFAULT_SINGLE_PYD_SELECT_PROMPT_TMPL
from llama_index.core.tools import FunctionTool, QueryEngineTool
from pydantic import BaseModel

from genai_trace_core.testing import OTelHarness, tree_shape

# llama-index-core 0.12 names the span after the class that defines the method
_OLD = tuple(int(x) for x in version("llama-index-core").split(".")[:2]) < (0, 13)
_OWNER = "FunctionCallingLLM" if _OLD else "OpenAI"
_ARGS = {
    "City": {"city": "Paris", "country": "France"},
    "SingleSelection": {"index": 1, "reason": "vector search"},
    "add": {"a": 2, "b": 3},
}
dispatcher = get_dispatcher(__name__)


class City(BaseModel):
    city: str
    country: str


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _serve(request: httpx.Request) -> httpx.Response:
    """Calls the first tool offered (with its arguments above); answers in text without tools."""
    body = json.loads(request.content)
    if not body.get("tools"):
        return answer(request)
    name = body["tools"][0]["function"]["name"]
    call = {"name": name, "arguments": json.dumps(_ARGS[name])}
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": call}],
    }
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-tool",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 42, "completion_tokens": 5, "total_tokens": 47},
        },
    )


def _program(llm: LLM) -> FunctionCallingProgram[City]:
    return FunctionCallingProgram.from_defaults(
        output_cls=City, prompt_template_str="capital of {country}?", llm=llm
    )


def _selector(llm: LLM) -> PydanticSingleSelector:
    # its default program on 0.13+ (0.12's from_defaults needs llama-index-program-openai)
    tmpl = DEFAULT_SINGLE_PYD_SELECT_PROMPT_TMPL
    program = FunctionCallingProgram.from_defaults(
        output_cls=SingleSelection, prompt_template_str=tmpl, llm=llm
    )
    return PydanticSingleSelector(selector_program=program)


@dispatcher.span
def _app_step(llm: LLM) -> Any:  # the app's own dispatcher span: no operation, hidden
    return llm.predict_and_call([FunctionTool.from_defaults(add)], "what is 2+3?")


_CHOICES = ["vector search", "summaries"]
_CITY = City(**_ARGS["City"])
# case -> (the request, its step's method, the tool it runs, what it returns)
CASES: dict[str, tuple[Callable[[LLM], Any], str, str, Any]] = {
    "program": (lambda llm: _program(llm)(country="France"), "predict_and_call", "City", _CITY),
    "aprogram": (
        lambda llm: asyncio.run(_program(llm).acall(country="France")),
        "apredict_and_call",
        "City",
        _CITY,
    ),
    "select": (
        lambda llm: _selector(llm).select(_CHOICES, "capital?").ind,
        "predict_and_call",
        "SingleSelection",
        0,
    ),
    "aselect": (
        lambda llm: asyncio.run(_selector(llm).aselect(_CHOICES, "capital?")).ind,
        "apredict_and_call",
        "SingleSelection",
        0,
    ),
    "app_dispatcher_span": (lambda llm: str(_app_step(llm)), "predict_and_call", "add", "5"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_predict_and_call_under_a_hidden_span_is_one_trace_under_its_step(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, case: str
) -> None:
    instrument()
    llm = openai_clients(_serve)[0]
    run, method, tool, expected = CASES[case]
    assert run(llm) == expected
    assert run(llm) == expected  # a second request: a trace of its own

    lifecycle.check()
    one = [
        f"{_OWNER}.{method}",
        "INTERNAL",
        "UNSET",
        [
            ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            [f"execute_tool {tool}", "INTERNAL", "UNSET", []],
        ],
    ]
    assert tree_shape(otel.tree()) == [one, one]
    assert len({s.context.trace_id for s in otel.spans()}) == 2


@pytest.mark.parametrize("case", ["program", "select", "app_dispatcher_span"])
def test_with_internal_spans_hidden_the_step_stays_when_nothing_is_above_it(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, case: str
) -> None:
    """A step is hidden only under a span: under hidden spans alone it is the root (until
    2026-12-07 it was hidden there too, and the chat and the tool were two traces)."""
    instrument(hide_internal_spans=True)
    llm = openai_clients(_serve)[0]
    run, method, tool, expected = CASES[case]
    assert run(llm) == expected
    lifecycle.check()
    assert tree_shape(otel.tree(), kind=False, status=False) == [
        [f"{_OWNER}.{method}", [["chat gpt-4o-mini", []], [f"execute_tool {tool}", []]]]
    ]


def test_a_program_under_the_apps_span_nests_there_with_no_step(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle
) -> None:
    instrument()
    llm = openai_clients(_serve)[0]
    with otel.tracer_provider.get_tracer("app").start_as_current_span("request"):
        assert _program(llm)(country="France") == _CITY
    lifecycle.check()
    assert tree_shape(otel.tree(), kind=False, status=False) == [
        ["request", [["chat gpt-4o-mini", []], ["execute_tool City", []]]]
    ]


@pytest.mark.parametrize("method", ["query", "aquery"])
def test_a_routers_selection_nests_under_the_query_with_no_step(
    otel: OTelHarness,
    instrument: Instrument,
    lifecycle: Lifecycle,
    index: VectorStoreIndex,
    method: str,
) -> None:
    instrument()
    llm = openai_clients(_serve)[0]
    tools = [
        QueryEngineTool.from_defaults(
            index.as_query_engine(llm=llm, similarity_top_k=1), name=name, description=name
        )
        for name in ("vector", "summary")
    ]
    router = RouterQueryEngine(selector=_selector(llm), query_engine_tools=tools, llm=llm)
    if method == "query":
        router.query("capital?")
    else:
        asyncio.run(router.aquery("capital?"))

    lifecycle.check()
    assert tree_shape(otel.tree(), kind=False, status=False) == [
        [
            "RouterQueryEngine.query",
            [
                ["chat gpt-4o-mini", []],
                ["execute_tool SingleSelection", []],
                [
                    "RetrieverQueryEngine.query",
                    [
                        ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                        ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
                    ],
                ],
            ],
        ]
    ]
