"""``server.address``/``server.port`` of LlamaIndex's Anthropic LLM: its ``base_url``, else where
its Anthropic SDK client sends requests (``ANTHROPIC_BASE_URL``, then
``https://api.anthropic.com``), as for OpenAI models (whose ``api_base`` is always set).

Drives llama-index-llms-anthropic's real ``Anthropic`` LLM (and the ``anthropic`` SDK under it)
over a mock transport answering in Anthropic's wire format; runs where it is installed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from li_lifecycle import Lifecycle
from li_support import Instrument

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("llama_index.llms.anthropic")

MODEL = "claude-sonnet-4-5"


@pytest.fixture(autouse=True)
def no_anthropic_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    yield


def _anthropic_llm(urls: list[str], **kwargs: Any) -> Any:
    """The real LLM; its SDK client (built as the LLM builds it) on a mock transport."""
    import anthropic
    import anthropic._base_client as sdk
    from llama_index.llms.anthropic import Anthropic

    http = getattr(sdk, "httpx2", None) or sdk.httpx  # what the installed SDK is built on

    def answer(request: Any) -> Any:
        urls.append(str(request.url))
        return http.Response(
            200,
            json={
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [{"type": "text", "text": "Paris."}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 3},
            },
        )

    llm = Anthropic(model=MODEL, api_key="sk-ant-test", max_tokens=256, **kwargs)
    transport = http.MockTransport(answer)
    llm._client = anthropic.Anthropic(
        api_key="sk-ant-test",
        base_url=kwargs.get("base_url"),
        max_retries=0,
        http_client=http.Client(transport=transport),
    )
    return llm


@pytest.mark.parametrize(
    ("kwargs", "env", "url", "server"),
    [
        ({}, None, "https://api.anthropic.com/v1/messages", ("api.anthropic.com", 443)),
        (
            {"base_url": "http://localhost:8089"},
            None,
            "http://localhost:8089/v1/messages",
            ("localhost", 8089),
        ),
        (
            {},
            "https://gateway.example:8443",
            "https://gateway.example:8443/v1/messages",
            ("gateway.example", 8443),
        ),
    ],
    ids=["sdk-default", "base-url", "env"],
)
def test_anthropic_llm_chat_span_names_the_server_it_talked_to(
    otel: OTelHarness,
    instrument: Instrument,
    lifecycle: Lifecycle,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, Any],
    env: str | None,
    url: str,
    server: tuple[str, int],
) -> None:
    from llama_index.core.llms import ChatMessage

    if env is not None:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", env)
    urls: list[str] = []
    llm = _anthropic_llm(urls, **kwargs)
    instrument()

    reply = llm.chat([ChatMessage(role="user", content="Capital of France?")])

    assert (reply.message.content, urls) == ("Paris.", [url])
    lifecycle.check()
    assert [
        (
            s["name"],
            s["kind"],
            s["parent"],
            s["attributes"][semconv.GEN_AI_PROVIDER_NAME],
            s["attributes"].get(semconv.SERVER_ADDRESS),
            s["attributes"].get(semconv.SERVER_PORT),
        )
        for s in otel.snapshot_dicts()
    ] == [(f"chat {MODEL}", "CLIENT", None, "anthropic", *server)]
