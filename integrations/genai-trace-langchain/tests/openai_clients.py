"""The real OpenAI clients for the wire tests: langchain-openai's ``ChatOpenAI`` and
``OpenAIEmbeddings`` on httpx clients whose transport is an :class:`OpenAIWire` (the ``clients``
fixture, in conftest, opens and closes them)."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import tool
from openai_wire import OpenAIWire

from genai_trace_core import Usage, compute_cost, semconv

API_KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"
CHAT_MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
EMBED_MODEL = "text-embedding-3-small"


def chat_model(wire: OpenAIWire, clients: Any, **kwargs: Any) -> Any:
    """A ``ChatOpenAI`` on the wire (no retries unless ``max_retries`` is given)."""
    from langchain_openai import ChatOpenAI

    sync, async_ = clients(wire)
    kwargs.setdefault("max_retries", 0)
    return ChatOpenAI(
        model=CHAT_MODEL, api_key=API_KEY, http_client=sync, http_async_client=async_, **kwargs
    )


def embedder(wire: OpenAIWire, clients: Any) -> Any:
    """An ``OpenAIEmbeddings`` on the wire."""
    from langchain_openai import OpenAIEmbeddings

    sync, async_ = clients(wire)
    return OpenAIEmbeddings(
        model=EMBED_MODEL, api_key=API_KEY, http_client=sync, http_async_client=async_
    )


def expected_cost(model: str, u: Usage) -> Any:
    """Core's cost of ``u`` on ``model`` (a positive one)."""
    cost = compute_cost(model, semconv.PROVIDER_OPENAI, u)
    assert cost is not None and cost.total_usd > 0
    return cost


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"
