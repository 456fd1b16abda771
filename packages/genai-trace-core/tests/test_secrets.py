"""Secret scrubbing of kwargs, invocation params and serialized framework objects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from genai_trace_core.content import is_secret_key, scrub_secrets

# internal: the markers that replace a secret and a too-deep value are not public names
from genai_trace_core.content._secrets import MAX_DEPTH_MARKER, SECRET_MARKER

FAKE_KEY = "sk-proj-" + "Zx9Yw8Vu7T" * 4


class TrapSecret(SecretStr):
    """A SecretStr whose value must never be read."""

    def get_secret_value(self) -> str:
        raise AssertionError("scrub_secrets read a secret value")


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "openai_api_key",
        "anthropic_api_key",
        "OPENAI_API_KEY",
        "openAIApiKey",
        "apiKey",
        "x-api-key",
        "X-Api-Key",
        "Authorization",
        "proxy-authorization",
        "password",
        "db_password",
        "secret",
        "client_secret",
        "credentials",
        "google_application_credentials",
        "hf_token",
        "huggingfacehub_api_token",
        "access_token",
        "refresh_token",
        "token",
        "aws_secret_access_key",
        "aws_session_token",
        "private_key",
        "cookie",
        "connection_string",
    ],
)
def test_secret_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "model",
        "model_name",
        "max_tokens",
        "max_completion_tokens",
        "tokenizer",
        "token_count",
        "eos_token",
        "pad_token",
        "next_page_token",
        "temperature",
        "stream_usage",
        "default_headers",
        "key_name",
        "cache_key",
        "author",
    ],
)
def test_ordinary_keys_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


def test_chatopenai_model_dump_is_scrubbed_without_reading_secretstr() -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    llm = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key=SecretStr(FAKE_KEY),
        temperature=0.2,
        default_headers={"Authorization": "Bearer " + FAKE_KEY, "X-Team": "search"},
        model_kwargs={"user": "u-1"},
    )
    dumped = llm.model_dump()
    assert isinstance(dumped["openai_api_key"], SecretStr)
    dumped["openai_api_key"] = TrapSecret(FAKE_KEY)  # ChatOpenAI itself reads it; we must not
    scrubbed = scrub_secrets(dumped)
    assert scrubbed["openai_api_key"] == SECRET_MARKER
    assert scrubbed["default_headers"] == {"Authorization": SECRET_MARKER, "X-Team": "search"}
    assert scrubbed["model_name"] == "gpt-4o-mini"
    assert scrubbed["temperature"] == 0.2
    assert scrubbed["model_kwargs"] == {"user": "u-1"}
    assert FAKE_KEY not in json.dumps(scrubbed, default=repr)


def test_langchain_serialized_constructor_is_scrubbed() -> None:
    serialized: dict[str, Any] = {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "chat_models", "openai", "ChatOpenAI"],
        "kwargs": {
            "model_name": "gpt-4o-mini",
            "temperature": 0.2,
            "openai_api_key": {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]},
            "default_headers": {"Authorization": "Bearer " + FAKE_KEY},
            "model_kwargs": {"extra_body": {"note": f"key is {FAKE_KEY}"}},
        },
        "name": "ChatOpenAI",
    }
    assert scrub_secrets(serialized) == {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "chat_models", "openai", "ChatOpenAI"],
        "kwargs": {
            "model_name": "gpt-4o-mini",
            "temperature": 0.2,
            "openai_api_key": SECRET_MARKER,
            "default_headers": {"Authorization": SECRET_MARKER},
            "model_kwargs": {"extra_body": {"note": "key is [REDACTED:openai_key]"}},
        },
        "name": "ChatOpenAI",
    }


def test_invocation_params_keep_settings_and_mask_secrets_anywhere() -> None:
    params = {
        "model": "gpt-4o",
        "stream": False,
        "max_tokens": 256,
        "stop": ["\n\n"],
        "api_key": FAKE_KEY,
        "tools": [{"type": "function", "function": {"name": "f", "x-api-key": "k"}}],
        "client": TrapSecret("x"),
        "unset_token": None,
    }
    assert scrub_secrets(params) == {
        "model": "gpt-4o",
        "stream": False,
        "max_tokens": 256,
        "stop": ["\n\n"],
        "api_key": SECRET_MARKER,
        "tools": [{"type": "function", "function": {"name": "f", "x-api-key": SECRET_MARKER}}],
        "client": SECRET_MARKER,
        "unset_token": None,
    }


def test_scrub_is_shallow_for_other_objects_and_does_not_mutate_input() -> None:
    sentinel = object()
    params = {"http_client": sentinel, "headers": {"authorization": "x"}}
    scrubbed = scrub_secrets(params)
    assert scrubbed["http_client"] is sentinel
    assert params["headers"] == {"authorization": "x"}


def test_depth_cap_stops_recursion_on_cycles_and_deep_nesting() -> None:
    cyclic: dict[str, Any] = {"name": "a"}
    cyclic["self"] = cyclic
    out = scrub_secrets(cyclic, max_depth=3)
    assert out == {
        "name": "a",
        "self": {"name": "a", "self": {"name": "a", "self": MAX_DEPTH_MARKER}},
    }
