"""Shared data for the LlamaIndex tests (a uniquely named module: never ``from conftest``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llama_index.core import Document

from genai_trace_core.testing import tree_shape
from genai_trace_llamaindex import LlamaIndexInstrumentor

DOCS = [
    Document(text="Paris is the capital of France.", id_="doc-paris"),
    Document(text="Berlin is the capital of Germany.", id_="doc-berlin"),
    Document(text="Madrid is the capital of Spain.", id_="doc-madrid"),
]

Instrument = Callable[..., LlamaIndexInstrumentor]


def shape(tree: list[dict[str, Any]]) -> list[Any]:
    """Names and nesting only: ``[name, [children...]]``."""
    return tree_shape(tree, kind=False, status=False)
