"""Both metric namings in every panel: PromQL selectors of the newest names rewritten to match
the released v1.41 names too.

A service started with GENAI_TRACE_METRICS_NAMING=v1.41 emits the v1.41 names: chat and
embeddings durations share gen_ai.client.operation.duration, tokens are one histogram
(gen_ai.client.token.usage by gen_ai.token.type), time to first chunk and per chunk are
gen_ai.client.operation.*. Each selector becomes a __name__ regex plus the labels that pick the
same calls; a service uses one naming at a time, so no two series collide. Cache, reasoning and
per-modality token panels have no v1.41 counterpart and stay empty for v1.41 services
(stack/README.md; tests/stack/test_stack_alerts.py checks exactly which).
"""

from __future__ import annotations

import re

_INFERENCE_OPS = 'gen_ai_operation_name=~"chat|text_completion|generate_content"'
_NOT_EMBEDDINGS = 'gen_ai_operation_name!="embeddings"'
# newest histogram name -> (v1.41 histogram name, labels selecting the same calls)
_HISTOGRAMS = {
    "gen_ai_client_inference_duration_seconds": (
        "gen_ai_client_operation_duration_seconds",
        _INFERENCE_OPS,
    ),
    "gen_ai_client_embeddings_duration_seconds": (
        "gen_ai_client_operation_duration_seconds",
        'gen_ai_operation_name="embeddings"',
    ),
    "gen_ai_client_inference_time_to_first_chunk_seconds": (
        "gen_ai_client_operation_time_to_first_chunk_seconds",
        "",
    ),
    "gen_ai_client_inference_time_per_output_chunk_seconds": (
        "gen_ai_client_operation_time_per_output_chunk_seconds",
        "",
    ),
    "gen_ai_client_inference_operation_input_tokens": (
        "gen_ai_client_token_usage",
        f'gen_ai_token_type=~"input|", {_NOT_EMBEDDINGS}',
    ),
    "gen_ai_client_inference_operation_output_tokens": (
        "gen_ai_client_token_usage",
        f'gen_ai_token_type=~"output|", {_NOT_EMBEDDINGS}',
    ),
    "gen_ai_client_embeddings_operation_input_tokens": (
        "gen_ai_client_token_usage",
        'gen_ai_token_type=~"input|", gen_ai_operation_name="embeddings"',
    ),
}
# newest token counter -> (v1.41 histogram sum, labels)
_COUNTERS = {
    "gen_ai_client_inference_usage_input_tokens_total": (
        "gen_ai_client_token_usage_sum",
        f'gen_ai_token_type=~"input|", {_NOT_EMBEDDINGS}',
    ),
    "gen_ai_client_inference_usage_output_tokens_total": (
        "gen_ai_client_token_usage_sum",
        f'gen_ai_token_type=~"output|", {_NOT_EMBEDDINGS}',
    ),
}
_SUFFIXED = re.compile(r"\b(" + "|".join(map(re.escape, _HISTOGRAMS)) + r")_(bucket|count|sum)\{")
_COUNTER = re.compile(r"\b(" + "|".join(map(re.escape, _COUNTERS)) + r")\{")
# The $service/$provider/$model variables list services of either naming, embeddings-only ones too.
CALLS_EITHER_NAMING = (
    '{__name__=~"gen_ai_client_inference_duration_seconds_count'
    "|gen_ai_client_operation_duration_seconds_count"
    '|gen_ai_client_embeddings_duration_seconds_count"}'
)


def both_namings(expr: str) -> str:
    """``expr`` with every newest-name selector also matching the v1.41 name."""

    def histogram(m: re.Match[str]) -> str:
        old, suffix = m.group(1), m.group(2)
        new, labels = _HISTOGRAMS[old]
        extra = f", {labels}" if labels else ""
        return f'{{__name__=~"{old}_{suffix}|{new}_{suffix}"{extra}, '

    def counter(m: re.Match[str]) -> str:
        new, labels = _COUNTERS[m.group(1)]
        return f'{{__name__=~"{m.group(1)}|{new}", {labels}, '

    return _COUNTER.sub(counter, _SUFFIXED.sub(histogram, expr))
