"""``server.address``/``server.port`` of an Anthropic chat model: the base URL it was built with,
else where the Anthropic SDK sends requests (``ANTHROPIC_API_URL``/``ANTHROPIC_BASE_URL``, then
``https://api.anthropic.com``), as for OpenAI models.

The first tests drive langchain-anthropic's real ``ChatAnthropic`` (and the ``anthropic`` SDK under
it) over a mock transport answering in Anthropic's wire format; they run where langchain-anthropic
is installed. The last ones are a user's own chat model that calls Anthropic and says so
(``ls_provider="anthropic"``) but names no URL: the SDK default, or the environment's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from inline_snapshot import snapshot
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from lifecycle_checks import Lifecycle

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

MODEL = "claude-sonnet-4-5"
ENVS = ("ANTHROPIC_API_URL", "ANTHROPIC_BASE_URL")


@pytest.fixture(autouse=True)
def no_anthropic_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENVS:
        monkeypatch.delenv(name, raising=False)
    yield


def _sdk_httpx() -> Any:
    """The HTTP library the installed ``anthropic`` SDK is built on (``httpx2`` from 2.x)."""
    import anthropic._base_client as sdk

    return getattr(sdk, "httpx2", None) or sdk.httpx


def _message(request: Any) -> Any:
    """Anthropic's answer to ``POST /v1/messages``."""
    return _sdk_httpx().Response(
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


def _chat_anthropic(urls: list[str], **kwargs: Any) -> Any:
    """The real ``ChatAnthropic``; its SDK client on a mock transport recording request URLs."""
    anthropic = pytest.importorskip("anthropic")
    chat_anthropic = pytest.importorskip("langchain_anthropic").ChatAnthropic
    http = _sdk_httpx()

    def answer(request: Any) -> Any:
        urls.append(str(request.url))
        return _message(request)

    model = chat_anthropic(
        model=MODEL, api_key="sk-ant-test", max_tokens=1024, max_retries=0, **kwargs
    )
    client = http.Client(transport=http.MockTransport(answer))
    model.__dict__["_client"] = anthropic.Anthropic(
        api_key="sk-ant-test", base_url=model.anthropic_api_url, http_client=client
    )
    return model


def _ask(handler: OpenTelemetryCallbackHandler, model: Any) -> str:
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    chain = (prompt | model).with_config(run_name="ask")
    return str(chain.invoke({"question": "Capital of France?"}, {"callbacks": [handler]}).content)


def _tree(otel: OTelHarness) -> list[tuple[str, str, Any, str | None, Any, Any]]:
    """Every span: name, kind, parent, provider and server."""
    return [
        (
            s["name"],
            s["kind"],
            s["parent"],
            s["attributes"].get(semconv.GEN_AI_PROVIDER_NAME),
            s["attributes"].get(semconv.SERVER_ADDRESS),
            s["attributes"].get(semconv.SERVER_PORT),
        )
        for s in otel.snapshot_dicts()
    ]


@pytest.mark.parametrize(
    ("kwargs", "env", "url", "server"),
    [
        ({}, {}, "https://api.anthropic.com/v1/messages", ("api.anthropic.com", 443)),
        (
            {"base_url": "http://localhost:8089"},
            {},
            "http://localhost:8089/v1/messages",
            ("localhost", 8089),
        ),
        (
            {},
            {"ANTHROPIC_BASE_URL": "https://gateway.example:8443"},
            "https://gateway.example:8443/v1/messages",
            ("gateway.example", 8443),
        ),
    ],
    ids=["sdk-default", "base-url", "env"],
)
def test_chat_anthropic_span_names_the_server_it_talked_to(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, Any],
    env: dict[str, str],
    url: str,
    server: tuple[str, int],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    urls: list[str] = []

    assert _ask(handler, _chat_anthropic(urls, **kwargs)) == "Paris."

    assert urls == [url]
    lifecycle.check()
    assert _tree(otel) == [
        ("invoke_workflow ask", "INTERNAL", None, None, None, None),
        ("ChatPromptTemplate", "INTERNAL", 0, None, None, None),
        (f"chat {MODEL}", "CLIENT", 0, "anthropic", *server),
    ]


class ClaudeViaOwnClient(BaseChatModel):
    """A user's chat model that calls Anthropic through its own code and says so."""

    model: str = MODEL

    @property
    def _llm_type(self) -> str:
        return "claude-via-own-client"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "anthropic"
        params["ls_model_name"] = self.model
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage("Paris."))])


def test_own_anthropic_model_without_url_gets_the_sdk_default(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    assert _ask(handler, ClaudeViaOwnClient()) == "Paris."

    lifecycle.check()
    assert _tree(otel) == snapshot(
        [
            ("invoke_workflow ask", "INTERNAL", None, None, None, None),
            ("ChatPromptTemplate", "INTERNAL", 0, None, None, None),
            ("chat claude-sonnet-4-5", "CLIENT", 0, "anthropic", "api.anthropic.com", 443),
        ]
    )


def test_own_anthropic_model_follows_the_environment_as_the_sdk_does(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://claude-proxy.internal")

    assert _ask(handler, ClaudeViaOwnClient()) == "Paris."

    lifecycle.check()
    assert _tree(otel) == snapshot(
        [
            ("invoke_workflow ask", "INTERNAL", None, None, None, None),
            ("ChatPromptTemplate", "INTERNAL", 0, None, None, None),
            ("chat claude-sonnet-4-5", "CLIENT", 0, "anthropic", "claude-proxy.internal", 80),
        ]
    )
