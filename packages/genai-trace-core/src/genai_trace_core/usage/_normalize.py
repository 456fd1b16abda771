"""Token usage from any provider payload, in one shape: :class:`~genai_trace_core.Usage`.

The conventions define ``input_tokens`` as *including* cache read and cache write tokens, with
``cache_read``/``cache_write`` as subsets, and ``reasoning`` as a subset of ``output_tokens``.
Each payload shape is mapped to that; the provider's counts always win over estimates.

Shapes, detected by their keys (dicts, pydantic models, SDK objects and protos alike; read with
``Mapping.get``/``getattr``, never copied or dumped):

* LangChain ``usage_metadata`` (``input_token_details``/``output_token_details``): input already
  includes cache, so cache counts are *not* added again.
* OpenAI Responses (``input_tokens_details``/``output_tokens_details``): input includes cache.
* Anthropic (``cache_creation_input_tokens``/``cache_read_input_tokens``): ``input_tokens``
  excludes both, so they are added into input.
* Bedrock Converse (``inputTokens``...), invocation metrics (``inputTokenCount``...) and the
  ``x-amzn-bedrock-*-token-count`` headers: input excludes cache like Anthropic, unless a reported
  total shows it is already included.
* OpenAI chat completions, Mistral, Groq, DeepSeek, LangChain ``llm_output["token_usage"]``,
  LlamaIndex ``additional_kwargs`` (``prompt_tokens``/``completion_tokens``, details with
  ``cached_tokens``, ``cache_write_tokens``, ``reasoning_tokens``, ``audio_tokens``; DeepSeek
  ``prompt_cache_hit_tokens``).
* Gemini / Vertex ``usage_metadata`` (snake or camel case). ``thoughts_token_count`` is not in
  ``candidates_token_count`` but is billed as output, so output = candidates + thoughts and
  reasoning = thoughts; ``tool_use_prompt_token_count`` is added into input (billed as input).
  Per-modality ``*_tokens_details`` go into ``Usage.modalities``.
* Cohere (``billed_units`` preferred over ``tokens``), Ollama (``prompt_eval_count``,
  ``eval_count``), Bedrock Llama bodies (``prompt_token_count``, ``generation_token_count``).

A whole response is accepted too: ``usage_metadata``, ``usage``, ``token_usage``, ``meta``,
``raw``... are looked into. Garbage (``None``, strings, negatives, wrong types) gives ``None`` or
a partial :class:`Usage`, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from genai_trace_core import semconv
from genai_trace_core._safe import safe
from genai_trace_core.records import Usage
from genai_trace_core.usage._fields import (
    IN,
    OUT,
    as_count,
    as_count_str,
    count_at,
    get_field,
    has_any,
)
from genai_trace_core.usage._shapes import (
    CONVERSE,
    HEADERS,
    INVOCATION,
    anthropic,
    bedrock,
    cohere,
    gemini,
    langchain,
    openai_chat,
    openai_responses,
)

__all__ = ["merge_usage", "normalize_usage"]


# Where a response object keeps its usage, tried in this order.
_CONTAINERS = (
    "usage_metadata",
    "usage",
    "token_usage",
    "usageMetadata",
    "meta",
    "amazon-bedrock-invocationMetrics",
    "x_groq",
    "response_metadata",
    "llm_output",
    "raw",
    "_raw_response",
    "additional_kwargs",
    "headers",
)
_MAX_DEPTH = 3


def _counts(input_key: str, output_key: str) -> Callable[[Any], Usage]:
    return lambda u: Usage(
        input_tokens=count_at(u, input_key), output_tokens=count_at(u, output_key)
    )


# (keys, reader), tried in this order: the first rule with any of its keys present reads ``u``.
_RULES: tuple[tuple[frozenset[str], Callable[[Any], Usage | None]], ...] = (
    (frozenset({"input_token_details", "output_token_details"}), langchain),
    (frozenset({"input_tokens_details", "output_tokens_details"}), openai_responses),
    (frozenset({"cache_creation_input_tokens", "cache_read_input_tokens"}), anthropic),
    (frozenset({"billed_units"}), cohere),
    # LangChain usage_metadata without details, Anthropic without cache fields, Cohere units.
    (frozenset({IN, OUT}), _counts(IN, OUT)),
    (frozenset({"prompt_tokens", "completion_tokens"}), openai_chat),
    # Bedrock Meta Llama body
    (
        frozenset({"generation_token_count"}),
        _counts("prompt_token_count", "generation_token_count"),
    ),
    (
        frozenset(
            {
                "prompt_token_count",
                "promptTokenCount",
                "candidates_token_count",
                "candidatesTokenCount",
            }
        ),
        gemini,
    ),
    (frozenset({"prompt_eval_count", "eval_count"}), _counts("prompt_eval_count", "eval_count")),
    (frozenset({"inputTokens", "outputTokens"}), lambda u: bedrock(u, as_count, CONVERSE)),
    (
        frozenset({"inputTokenCount", "outputTokenCount"}),
        lambda u: bedrock(u, as_count, INVOCATION),
    ),
)
# Mappings only (HTTP headers).
_HEADER_RULE = (frozenset(HEADERS[:2]), lambda u: bedrock(u, as_count_str, HEADERS))
_MAPPING_RULES = (*_RULES, _HEADER_RULE)
_MAPPING_KEYS = frozenset().union(*(keys for keys, _ in _MAPPING_RULES))


def _detect(u: Any) -> Usage | None:
    """The usage in ``u`` itself (not in a container), or None if no known key is there."""
    if type(u) is dict or isinstance(u, Mapping):
        keys = u.keys()  # set operations in C: one check when no usage key is there at all
        if keys.isdisjoint(_MAPPING_KEYS):
            return None
        for names, read in _MAPPING_RULES:
            if not keys.isdisjoint(names):
                return read(u)
        return None
    for names, read in _RULES:
        if has_any(u, *names):
            return read(u)
    return None


def _find(payload: Any, depth: int) -> Usage | None:
    found = _detect(payload)
    if found is not None and not found.is_empty:
        return found
    if depth >= _MAX_DEPTH:
        return None
    is_dict = type(payload) is dict
    for key in _CONTAINERS:
        inner = payload.get(key) if is_dict else get_field(payload, key)
        if inner is None or inner is payload or isinstance(inner, (str, bytes, int, float)):
            continue
        found = _find(inner, depth + 1)
        if found is not None:
            return found
    return None


def normalize_unsafe(payload: object) -> Usage | None:
    """:func:`normalize_usage` for callers already inside ``safe`` (it may raise)."""
    if payload is None or isinstance(payload, (str, bytes, int, float, bool)):
        return None
    if isinstance(payload, Usage):
        return payload
    return _find(payload, 0)


@safe(default=None)
def normalize_usage(payload: object, provider: str | None = None) -> Usage | None:
    """Normalise a provider or framework usage payload (or a whole response) to :class:`Usage`.

    ``provider`` (a ``gen_ai.provider.name``) is accepted for callers that know it; the shape is
    recognised from the keys, which is what tells apart cache-inclusive and cache-exclusive input
    counts. A ready :class:`Usage` is returned as is. Returns ``None`` when no counts are found.
    """
    del provider  # the keys decide; kept in the signature for callers and future shapes
    return normalize_unsafe(payload)


def _sum(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def merge_usage(a: Usage | None, b: Usage | None) -> Usage | None:
    """Sum two usages (for independent parts, such as per-chunk deltas). ``None`` counts as zero;
    the result is ``estimated`` if either side is."""
    if a is None:
        return b
    if b is None:
        return a
    modalities: dict[str, dict[str, int]] = {m: dict(kinds) for m, kinds in a.modalities.items()}
    for modality, kinds in b.modalities.items():
        target = modalities.setdefault(modality, {})
        for kind, count in kinds.items():
            target[kind] = target.get(kind, 0) + count
    estimated = semconv.USAGE_SOURCE_ESTIMATED
    return Usage(
        input_tokens=_sum(a.input_tokens, b.input_tokens),
        output_tokens=_sum(a.output_tokens, b.output_tokens),
        cache_read_input_tokens=_sum(a.cache_read_input_tokens, b.cache_read_input_tokens),
        cache_write_input_tokens=_sum(a.cache_write_input_tokens, b.cache_write_input_tokens),
        reasoning_output_tokens=_sum(a.reasoning_output_tokens, b.reasoning_output_tokens),
        modalities=modalities,
        source=estimated if estimated in (a.source, b.source) else semconv.USAGE_SOURCE_PROVIDER,
        estimator=a.estimator or b.estimator,
    )
