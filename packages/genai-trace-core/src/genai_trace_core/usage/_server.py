"""``server.address`` and ``server.port`` of a model client, from its base URL.

The conventions want both on inference and embeddings spans and metrics (the port is
conditionally required once the address is set). Integrations hand over whatever base URL the
client holds (an ``httpx.URL``, a string); an OpenAI client without one talks to the SDK default.
"""

from __future__ import annotations

import itertools
import os
from typing import Any
from urllib.parse import urlsplit

from genai_trace_core.usage._probe import client_attributes

_DEFAULT_PORTS = {"https": 443, "http": 80}
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


_SERVERS: dict[str, tuple[str | None, int | None]] = {}  # URL -> (host, port), bounded
_MAX_SERVERS = 256


def server_from_url(url: Any) -> tuple[str | None, int | None]:
    """``(host, port)`` of ``url``; the port from the scheme when the URL names none. A string
    URL is parsed once (a process talks to a handful of endpoints; model starts repeat them)."""
    if url is None:
        return None, None
    if type(url) is str:
        found = _SERVERS.get(url)
        if found is not None:
            return found
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None, None
    server = (host, port) if host else (None, None)
    if type(url) is str and len(_SERVERS) < _MAX_SERVERS:
        _SERVERS[url] = server
    return server


_URL_ATTRS = ("openai_api_base", "base_url", "api_base", "azure_endpoint", "endpoint")
_HOLDERS = ("root_client", "_client", "client", "async_client")


def client_base_url(client: Any) -> Any:
    """The base URL a LangChain/LlamaIndex model object talks to, if it exposes one."""
    found = client_attributes(client, _URL_ATTRS + _HOLDERS)
    for value in itertools.islice(found, len(_URL_ATTRS)):
        if value:
            return value
    for inner in found:
        for attr in ("base_url", "_base_url"):
            value = getattr(getattr(inner, "_client", inner), attr, None)
            if value:
                return value
    return None


def openai_default_base_url() -> str:
    """Where the OpenAI SDK sends requests when the client names no base URL."""
    return os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL


ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com"


def anthropic_default_base_url() -> str:
    """Where the Anthropic SDK (and ``ChatAnthropic``) sends requests when the client names no
    base URL: ``ANTHROPIC_API_URL`` (LangChain's), ``ANTHROPIC_BASE_URL`` (the SDK's), else
    the default."""
    env = os.environ
    url = env.get("ANTHROPIC_API_URL") or env.get("ANTHROPIC_BASE_URL")
    return url or ANTHROPIC_DEFAULT_BASE_URL
