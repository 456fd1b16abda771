"""A function-calling model's one-request helpers are one trace each: ``structured_predict`` (its
program validates the answer with a tool after the model call) and ``predict_and_call`` (a chat
call, then the tool it chose). Both were two traces: the tool span started under dispatcher spans
linked before any span of ours existed, so it became a root of its own."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

import pytest
from li_lifecycle import Lifecycle
from li_support import Instrument
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from genai_trace_core.testing import OTelHarness, tree_shape
from genai_trace_llamaindex.testing import DeterministicLLM


class City(BaseModel):  # two fields: 0.12 first calls a one-field model's tool wrongly
    city: str
    country: str


# llama-index-core 0.12 names the span after the class defining the method, and runs a failing
# tool twice in ``predict_and_call`` (both reported by LlamaIndex: two tool spans)
_OLD = tuple(int(x) for x in version("llama-index-core").split(".")[:2]) < (0, 13)
_OWNER = "FunctionCallingLLM" if _OLD else "DeterministicLLM"
_FAILED_RUNS = 2 if _OLD else 1


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def broken(a: int) -> int:
    """Always fails."""
    raise ValueError("tool broke")


def _trees(otel: OTelHarness) -> list[Any]:
    return tree_shape(otel.tree())


@pytest.mark.parametrize("method", ["structured_predict", "astructured_predict"])
def test_a_structured_predict_and_its_tool_are_one_trace(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, method: str
) -> None:
    instrument()
    llm = DeterministicLLM(tool_calls=[("City", {"city": "Paris", "country": "France"})])
    prompt = PromptTemplate("capital of {country}?")
    for country in ("France", "Italy"):
        if method == "structured_predict":
            city = llm.structured_predict(City, prompt, country=country)
        else:
            city = asyncio.run(llm.astructured_predict(City, prompt, country=country))
        assert city == City(city="Paris", country="France")

    lifecycle.check()
    one = ["chat gpt-4o-mini", "CLIENT", "UNSET", [["execute_tool City", "INTERNAL", "UNSET", []]]]
    assert _trees(otel) == [one, one]


@pytest.mark.parametrize("method", ["predict_and_call", "apredict_and_call"])
def test_predict_and_call_is_one_trace_with_the_tools_outcome(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, method: str
) -> None:
    instrument()
    adder = DeterministicLLM(tool_calls=[("add", {"a": 2, "b": 3})])
    failing = DeterministicLLM(tool_calls=[("broken", {"a": 1})])

    def call(llm: DeterministicLLM, tool: Any, **kwargs: Any) -> Any:
        tools = [FunctionTool.from_defaults(tool)]
        if method == "predict_and_call":
            return llm.predict_and_call(tools, "what is 2+3?", **kwargs)
        return asyncio.run(llm.apredict_and_call(tools, "what is 2+3?", **kwargs))

    assert str(call(adder, add)) == "5"
    assert str(call(failing, broken)) == "Encountered error: tool broke"  # reported, not raised
    with pytest.raises(ValueError, match="tool broke"):
        call(failing, broken, error_on_tool_error=True)

    lifecycle.check()
    step = f"{_OWNER}.{method}"
    chat = ["chat gpt-4o-mini", "CLIENT", "UNSET", []]
    failed = [["execute_tool broken", "INTERNAL", "ERROR", []]] * _FAILED_RUNS
    assert _trees(otel) == [
        [step, "INTERNAL", "UNSET", [chat, ["execute_tool add", "INTERNAL", "UNSET", []]]],
        [step, "INTERNAL", "UNSET", [chat, *failed]],
        [step, "INTERNAL", "ERROR", [chat, *failed]],
    ]
