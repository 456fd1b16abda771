"""A plain ``def aembed_query`` returning an executor Future returns that same Future."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.embeddings import Embeddings

from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape


class ExecutorEmbeddings(Embeddings):
    model = "exec-embed"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(len(t))] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(len(text))]

    def aembed_query(self, text: str) -> Any:  # type: ignore[override]
        return asyncio.get_running_loop().run_in_executor(None, _vector, text)


def _vector(text: str) -> list[float]:
    return [float(len(text))]


async def _app() -> tuple[str, list[list[float]]]:
    future = ExecutorEmbeddings().aembed_query("abc")
    done, _ = await asyncio.wait([future])  # asyncio.wait refuses coroutines
    return type(future).__name__, [d.result() for d in done]


async def test_executor_future_is_returned_as_it_is(otel: OTelHarness, instrumented: Any) -> None:
    assert await _app() == ("Future", [[3.0]])
    assert shape(otel.tree()) == [["embeddings exec-embed", "CLIENT", "UNSET", []]]
