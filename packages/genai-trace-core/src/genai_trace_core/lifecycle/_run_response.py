"""The response fields of a finished model call that the framework dropped, as a suppressed
util-genai provider instrumentation published them into the run's context data object.

LangChain's ``ChatOpenAI`` streaming replaces the provider's response id with its run id; the
OpenAI embeddings of LangChain and LlamaIndex drop the response's model. A provider
instrumentation built on ``opentelemetry-util-genai`` (``opentelemetry-instrumentation-genai-
openai``, ...) that our run suppressed saw the response, and publishes ``response_id``,
``response_model`` and ``response_finish_reasons`` into the data object our run handed it
(``_suppress.provider_suppression``). What the framework reported always wins: only fields it
left unset are filled, on a copy (the caller's Outcome is never changed). Attribute reads only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from genai_trace_core._safe import log_once
from genai_trace_core.records import Outcome

# Longer is not an id or a model name a provider returns: left out rather than cut.
_MAX_TEXT = 256
_MAX_REASONS = 128


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= _MAX_TEXT else None


def _reasons(value: Any) -> list[str] | None:
    if not isinstance(value, (list, tuple)) or not 0 < len(value) <= _MAX_REASONS:
        return None
    if not all(isinstance(r, str) and len(r) <= _MAX_TEXT for r in value):
        return None
    return list(value)


def published_response(data: Any) -> dict[str, Any]:
    """The response fields a util-genai instrumentation published into ``data``, keyed by
    :class:`Outcome` field names (empty when ``data`` is ``None`` or holds none)."""
    if data is None:
        return {}
    found: dict[str, Any] = {}
    response_id = _text(getattr(data, "response_id", None))  # InferenceData only
    if response_id is not None:
        found["response_id"] = response_id
    model = _text(getattr(data, "response_model", None))
    if model is not None:
        found["response_model"] = model
    reasons = _reasons(getattr(data, "response_finish_reasons", None))  # InferenceData only
    if reasons is not None:
        found["finish_reasons"] = reasons
    return found


def outcome_with_published(outcome: Outcome | None, data: Any) -> Outcome | None:
    """``outcome``, or a copy of it with the response fields it lacks filled from ``data`` (a
    new Outcome when there was none). Never raises: on any surprise, ``outcome`` as given."""
    if data is None:
        return outcome
    try:
        found = published_response(data)
        if outcome is not None:
            found = {k: v for k, v in found.items() if not getattr(outcome, k)}
        if not found:
            return outcome
        return dataclasses.replace(outcome, **found) if outcome is not None else Outcome(**found)
    except Exception:
        log_once("published-response", "genai-trace: reading a published response failed")
        return outcome
