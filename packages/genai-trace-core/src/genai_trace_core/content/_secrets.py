"""Credential scrubbing, applied in every capture mode.

Model kwargs, invocation params and serialized framework objects routinely carry API keys
(``openai_api_key=SecretStr(...)``, ``default_headers={"Authorization": ...}``). Before any of them
becomes an attribute, :func:`scrub_secrets` replaces the values of secret-looking keys, masks
pydantic ``SecretStr``/``SecretBytes`` (never reading their value) and masks key/token formats in
string values. It copies only the containers it walks (shallow per level), with a depth cap.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from genai_trace_core.content._percent import mask_encoded
from genai_trace_core.content._redact import redact_secret_text

SECRET_MARKER: Final = "[REDACTED]"
MAX_DEPTH_MARKER: Final = "[MAX DEPTH]"
DEFAULT_MAX_DEPTH: Final = 6
_MAX_ITEMS: Final = 256  # per container; the rest is summarised

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s\-.]+")

# Whole normalised keys that are secrets.
_EXACT: Final = frozenset(
    {
        "api_key", "apikey", "key", "token", "secret", "password", "passwd", "pwd", "passphrase",
        "authorization", "proxy_authorization", "auth", "credential", "credentials", "cookie",
        "set_cookie", "x_api_key", "private_key", "dsn", "connection_string", "conn_str",
        "signature", "sig", "webhook_url", "bearer", "x_goog_api_key", "subscription_key",
        "ocp_apim_subscription_key", "x_amz_signature", "x_amz_security_token", "x_amz_credential",
        "x_goog_signature", "x_goog_credential", "awsaccesskeyid", "access_token", "refresh_token",
        "id_token", "client_secret", "code_verifier", "sv_sig", "skoid", "sktid",
    }
)  # fmt: skip
# Last segments that make a key secret (``openai_api_key``, ``hf_token``, ``client_secret``).
_SUFFIXES: Final = (
    "_api_key", "_apikey", "_token", "_secret", "_password", "_passwd", "_credentials",
    "_credential", "_private_key", "_secret_key", "_access_key", "_signing_key", "_auth",
    "_cookie", "_passphrase", "_connection_string",
)  # fmt: skip
# Tokenizer vocabulary entries, pagination cursors and counters: not credentials.
_NOT_SECRET: Final = frozenset(
    {
        "eos_token", "bos_token", "pad_token", "unk_token", "sep_token", "cls_token",
        "mask_token", "stop_token", "start_token", "end_token", "next_token", "next_page_token",
        "page_token", "continuation_token", "max_token", "sort_key", "cache_key",
        "partition_key", "primary_key", "idempotency_key", "routing_key", "key_name",
    }
)  # fmt: skip


@functools.lru_cache(maxsize=2048)
def is_secret_key(key: str) -> bool:
    """Whether a mapping key (kwarg, header, field name) names a credential.

    Case, ``-``/``.``/space separators and camelCase are normalised: ``X-Api-Key``,
    ``openAIApiKey`` and ``OPENAI_API_KEY`` all count."""
    norm = _SEPARATORS.sub("_", _CAMEL.sub("_", key.strip())).lower()
    if norm in _NOT_SECRET:
        return False
    if norm in _EXACT or norm.endswith(_SUFFIXES):
        return True
    # "openai_api_key_v2", "api_key_header"... but not "max_tokens" or "tokenizer".
    return "api_key" in norm or "secret" in norm or "password" in norm


def is_secret_value(value: object) -> bool:
    """pydantic ``SecretStr``/``SecretBytes`` (checked by type name: no pydantic import)."""
    return any(
        cls.__name__ in ("SecretStr", "SecretBytes", "Secret") for cls in type(value).__mro__
    )


def scrub_secrets(mapping: Mapping[Any, Any], max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """A copy of ``mapping`` safe to export: secret keys' values, ``SecretStr`` values and
    key/token formats in strings are masked; nested mappings and lists are walked up to
    ``max_depth`` levels (deeper containers become ``[MAX DEPTH]``). Other values are kept as
    they are (not copied)."""
    out: dict[str, Any] = {}
    for count, (key, value) in enumerate(mapping.items()):
        if count >= _MAX_ITEMS:
            out["…"] = f"[{len(mapping) - count} more items]"
            break
        name = key if isinstance(key, str) else str(key)
        if value is not None and is_secret_key(name):
            out[name] = SECRET_MARKER
        else:
            out[name] = _scrub_value(value, max_depth - 1)
    return out


def _scrub_value(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return redact_secret_text(value)
    if isinstance(value, (bytes, bytearray)):
        return value
    if is_secret_value(value):
        return SECRET_MARKER
    if isinstance(value, Mapping):
        return scrub_secrets(value, depth) if depth > 0 else MAX_DEPTH_MARKER
    if isinstance(value, (list, tuple)):
        if depth <= 0:
            return MAX_DEPTH_MARKER
        items = [_scrub_value(item, depth - 1) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            items.append(f"[{len(value) - _MAX_ITEMS} more items]")
        return items
    return value


def _masked_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(k, SECRET_MARKER if is_secret_key(k) else v) for k, v in pairs]
    return urlencode(masked, safe="[]")


def scrub_uri(uri: str) -> str:
    """Mask credentials in a URI: its user-info, secret query (and fragment) parameters such as
    a pre-signed URL's ``X-Amz-Credential``/``X-Amz-Signature`` or ``?key=``, and key or token
    formats anywhere in it."""
    uri = scrub_secret_text(uri)
    if "?" not in uri and "@" not in uri and "#" not in uri:
        return uri
    try:
        parts = urlsplit(uri)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = SECRET_MARKER + "@" + netloc.rsplit("@", 1)[1]
        fragment = parts.fragment
        if "=" in fragment:  # OAuth implicit flow: #access_token=...
            fragment = _masked_query(fragment)
        return urlunsplit(
            parts._replace(netloc=netloc, query=_masked_query(parts.query), fragment=fragment)
        )
    except ValueError:
        return _QUERY_PARAM.sub(_mask_param, uri)


# ``name=value`` after ``?``, ``&``, ``;`` or ``#`` in free text (URLs inside exception messages).
# The separator is part of the match (not a look-behind), so the engine skips to it by its
# first character instead of trying every position. A value ends at a ``?`` too: a URL given
# as a parameter (``?next=https://host/?api_key=...``) has its own parameters looked at.
_QUERY_PARAM = re.compile(r"([?&;#])([A-Za-z][\w.\-]{0,63})=([^&#;?\s\"'<>]+)")


def _mask_param(match: re.Match[str]) -> str:
    name = match.group(2)
    return f"{match.group(1)}{name}={SECRET_MARKER}" if is_secret_key(name) else match.group()


def scrub_secret_text(text: str) -> str:
    """Mask credentials in free text (exception messages, stack traces): key and token formats,
    ``user:password@`` in URLs and secret query parameters (``?key=``, ``&X-Amz-Signature=``)."""
    return mask_secret_params(redact_secret_text(text))


def mask_secret_params(text: str) -> str:
    """Mask the values of secret query parameters in free text (``?key=…``, ``&token=…``,
    ``;sig=…``, ``#access_token=…``), also in a percent-encoded URL inside a URL
    (``%26api_key%3D…``); other parameters stay as written."""
    return mask_encoded(_params_plain(text), _params_plain)


def _params_plain(text: str) -> str:
    if "=" not in text or not ("?" in text or "&" in text or ";" in text or "#" in text):
        return text
    return _QUERY_PARAM.sub(_mask_param, text)
