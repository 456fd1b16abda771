"""User objects that refuse ``bool()``, ``str()`` or attribute access, as run metadata or as a
tool's output: the program's results are unchanged and every span still starts and ends."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape


class Refusing:
    """A proxy-like object: truth test, ``str()`` and every attribute lookup raise."""

    def __bool__(self) -> bool:
        raise RuntimeError("no truth value")

    def __str__(self) -> str:
        raise RuntimeError("no text")

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"not connected: {name}")


REFUSING = Refusing()


@tool
def fetch(key: str) -> Any:
    """Fetch a lazy record."""
    return REFUSING


def test_refusing_values_change_nothing_and_every_span_ends(
    otel: OTelHarness, instrumented: Any
) -> None:
    echo = RunnableLambda(lambda x: x, name="echo")
    config: Any = {"metadata": {"thread_id": REFUSING, "user_id": REFUSING}}
    assert echo.invoke("hi", config=config) == "hi"
    assert fetch.invoke({"key": "k"}) is REFUSING
    assert shape(otel.tree()) == [
        ["invoke_workflow echo", "INTERNAL", "UNSET", []],
        ["execute_tool fetch", "INTERNAL", "UNSET", []],
    ]
