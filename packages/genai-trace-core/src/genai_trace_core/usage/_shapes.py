"""The provider usage shapes :mod:`._normalize` detects, each mapped to one :class:`Usage`
(see that module's docstring for what each shape counts and how cache and reasoning add up)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from genai_trace_core.records import Usage
from genai_trace_core.usage._fields import (
    CACHE_IN,
    IN,
    OUT,
    add_counts,
    count_at,
    get_field,
    set_modality,
)


def langchain(u: Any) -> Usage:
    usage = Usage(input_tokens=count_at(u, IN), output_tokens=count_at(u, OUT))
    inp = get_field(u, "input_token_details")
    out = get_field(u, "output_token_details")
    if inp is not None:
        usage.cache_read_input_tokens = count_at(inp, "cache_read")
        usage.cache_write_input_tokens = _cache_writes(inp)
        set_modality(usage, "audio", IN, count_at(inp, "audio"))
        set_modality(usage, "image", IN, count_at(inp, "image"))
    if out is not None:
        usage.reasoning_output_tokens = count_at(out, "reasoning")
        set_modality(usage, "audio", OUT, count_at(out, "audio"))
        set_modality(usage, "image", OUT, count_at(out, "image"))
    return usage


# langchain-anthropic moves the writes of Anthropic's per-TTL breakdown (``cache_creation``:
# ``ephemeral_5m_input_tokens``, ``ephemeral_1h_input_tokens``) into these keys and sets
# ``cache_creation`` to 0 "to avoid double counting": the writes are their sum.
_CACHE_WRITES_BY_TTL = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")


def _cache_writes(details: Any) -> int | None:
    total = count_at(details, "cache_creation")
    if total:
        return total
    by_ttl = add_counts(*(count_at(details, key) for key in _CACHE_WRITES_BY_TTL))
    return by_ttl if by_ttl else total


def openai_responses(u: Any) -> Usage:
    usage = Usage(input_tokens=count_at(u, IN), output_tokens=count_at(u, OUT))
    inp = get_field(u, "input_tokens_details")
    out = get_field(u, "output_tokens_details")
    if inp is not None:
        usage.cache_read_input_tokens = count_at(inp, "cached_tokens")
        usage.cache_write_input_tokens = count_at(inp, "cache_write_tokens")
        set_modality(usage, "audio", IN, count_at(inp, "audio_tokens"))
        set_modality(usage, "image", IN, count_at(inp, "image_tokens"))
        set_modality(usage, "text", IN, count_at(inp, "text_tokens"))
    if out is not None:
        usage.reasoning_output_tokens = count_at(out, "reasoning_tokens")
        set_modality(usage, "audio", OUT, count_at(out, "audio_tokens"))
        set_modality(usage, "image", OUT, count_at(out, "image_tokens"))
        set_modality(usage, "text", OUT, count_at(out, "text_tokens"))
    return usage


def anthropic(u: Any) -> Usage:
    read = count_at(u, "cache_read_input_tokens")
    write = count_at(u, "cache_creation_input_tokens")
    base = count_at(u, IN)
    return Usage(
        input_tokens=None if base is None else add_counts(base, read, write),
        output_tokens=count_at(u, OUT),
        cache_read_input_tokens=read,
        cache_write_input_tokens=write,
    )


def openai_chat(u: Any) -> Usage:
    usage = Usage(
        input_tokens=count_at(u, "prompt_tokens"), output_tokens=count_at(u, "completion_tokens")
    )
    inp = get_field(u, "prompt_tokens_details")
    out = get_field(u, "completion_tokens_details")
    if inp is not None:
        usage.cache_read_input_tokens = count_at(inp, "cached_tokens")
        usage.cache_write_input_tokens = count_at(inp, "cache_write_tokens")
        set_modality(usage, "audio", IN, count_at(inp, "audio_tokens"))
        set_modality(usage, "image", IN, count_at(inp, "image_tokens"))
    if usage.cache_read_input_tokens is None:  # DeepSeek
        usage.cache_read_input_tokens = count_at(u, "prompt_cache_hit_tokens")
    if out is not None:
        usage.reasoning_output_tokens = count_at(out, "reasoning_tokens")
        set_modality(usage, "audio", OUT, count_at(out, "audio_tokens"))
    return usage


def bedrock(u: Any, parse: Callable[[Any], int | None], names: tuple[str, ...]) -> Usage:
    def n(key: str) -> int | None:
        return parse(get_field(u, key))

    k_in, k_out, k_read, k_write, k_total = names
    base, out, read, write, total = n(k_in), n(k_out), n(k_read), n(k_write), n(k_total)
    # Bedrock reports input without cache tokens (like Anthropic); a total equal to
    # input + output means this payload already counted them in.
    already_in = total is not None and base is not None and total == base + (out or 0)
    add = not already_in and (read or write)
    return Usage(
        input_tokens=add_counts(base, read, write) if add and base is not None else base,
        output_tokens=out,
        cache_read_input_tokens=read,
        cache_write_input_tokens=write,
    )


CONVERSE = (
    "inputTokens",
    "outputTokens",
    "cacheReadInputTokens",
    "cacheWriteInputTokens",
    "totalTokens",
)
INVOCATION = (
    "inputTokenCount",
    "outputTokenCount",
    "cacheReadInputTokenCount",
    "cacheWriteInputTokenCount",
    "totalTokenCount",
)
HEADERS = (
    "x-amzn-bedrock-input-token-count",
    "x-amzn-bedrock-output-token-count",
    "x-amzn-bedrock-cache-read-input-token-count",
    "x-amzn-bedrock-cache-write-input-token-count",
    "x-amzn-bedrock-total-token-count",
)


def _gemini_details(usage: Usage, details: Any, kind: str) -> None:
    if not isinstance(details, Iterable) or isinstance(details, (str, bytes, Mapping)):
        return
    for item in details:
        modality = get_field(item, "modality")
        count = count_at(item, "token_count", "tokenCount")
        if modality is None or count is None:
            continue
        name = getattr(modality, "name", modality)
        if isinstance(name, str) and name:
            m = name.lower()
            usage.modalities.setdefault(m, {})[kind] = (
                usage.modalities.get(m, {}).get(kind, 0) + count
            )


def gemini(u: Any) -> Usage:
    prompt = count_at(u, "prompt_token_count", "promptTokenCount")
    tool_prompt = count_at(u, "tool_use_prompt_token_count", "toolUsePromptTokenCount")
    candidates = count_at(u, "candidates_token_count", "candidatesTokenCount")
    thoughts = count_at(u, "thoughts_token_count", "thoughtsTokenCount")
    usage = Usage(
        input_tokens=add_counts(prompt, tool_prompt) if prompt is not None else None,
        output_tokens=add_counts(candidates, thoughts),
        cache_read_input_tokens=count_at(
            u, "cached_content_token_count", "cachedContentTokenCount"
        ),
        reasoning_output_tokens=thoughts,
    )
    _gemini_details(usage, get_field(u, "prompt_tokens_details", "promptTokensDetails"), IN)
    _gemini_details(
        usage, get_field(u, "candidates_tokens_details", "candidatesTokensDetails"), OUT
    )
    _gemini_details(usage, get_field(u, "cache_tokens_details", "cacheTokensDetails"), CACHE_IN)
    return usage


def cohere(u: Any) -> Usage | None:
    for key in ("billed_units", "tokens"):
        part = get_field(u, key)
        if part is not None:
            usage = Usage(input_tokens=count_at(part, IN), output_tokens=count_at(part, OUT))
            if not usage.is_empty:
                return usage
    return None
