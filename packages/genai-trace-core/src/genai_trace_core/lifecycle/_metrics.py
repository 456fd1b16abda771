"""GenAI client metrics: the newest semconv instruments, or the released v1.41 names on a switch.

A failed model call still records its tokens (the newest conventions): the provider's usage when
it came back, else 0 on the input-token counter (modality ``unknown``) and on the per-operation
input-token histogram, where ``error.type`` tells it apart (dashboards leave those points out of
percentiles). The v1.41 ``gen_ai.client.token.usage`` is recorded only with a count, as it asks.

Instruments are created once per :class:`Instruments`; recording is a handful of dict merges and
``record``/``add`` calls at span end (and one ``record`` per streamed chunk after the first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.metrics import Meter

from genai_trace_core import semconv
from genai_trace_core.records import Usage

Attrs = Mapping[str, Any]

_USAGE_FIELDS = (
    ("input_tokens", semconv.METRIC_USAGE_INPUT_TOKENS),
    ("output_tokens", semconv.METRIC_USAGE_OUTPUT_TOKENS),
    ("cache_read_input_tokens", semconv.METRIC_USAGE_CACHE_READ_TOKENS),
    ("cache_write_input_tokens", semconv.METRIC_USAGE_CACHE_WRITE_TOKENS),
    ("reasoning_output_tokens", semconv.METRIC_USAGE_REASONING_TOKENS),
)
# Usage.modalities keys matching each usage counter.
_MODALITY_KEYS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_input_tokens": "cache_read.input_tokens",
}


class Instruments:
    """All instruments genai-trace records, bound to one meter."""

    def __init__(self, meter: Meter, naming: str = "latest") -> None:
        self.legacy = naming == "v1.41"
        d = list(semconv.DURATION_BUCKETS)
        tok = list(semconv.TOKEN_BUCKETS)
        if self.legacy:
            self.op_duration = meter.create_histogram(
                semconv.METRIC_V141_OPERATION_DURATION,
                "s",
                "GenAI operation duration",
                explicit_bucket_boundaries_advisory=d,
            )
            self.token_usage = meter.create_histogram(
                semconv.METRIC_V141_TOKEN_USAGE,
                "{token}",
                "Tokens used per operation",
                explicit_bucket_boundaries_advisory=tok,
            )
            self.ttfc = meter.create_histogram(
                semconv.METRIC_V141_TTFC,
                "s",
                "Time to first chunk",
                explicit_bucket_boundaries_advisory=d,
            )
            self.tpoc = meter.create_histogram(
                semconv.METRIC_V141_TPOC,
                "s",
                "Time per output chunk",
                explicit_bucket_boundaries_advisory=d,
            )
        else:
            self.inference_duration = meter.create_histogram(
                semconv.METRIC_INFERENCE_DURATION,
                "s",
                "GenAI inference duration",
                explicit_bucket_boundaries_advisory=d,
            )
            self.ttfc = meter.create_histogram(
                semconv.METRIC_INFERENCE_TTFC,
                "s",
                "Time to first chunk",
                explicit_bucket_boundaries_advisory=d,
            )
            self.tpoc = meter.create_histogram(
                semconv.METRIC_INFERENCE_TPOC,
                "s",
                "Time between output chunks",
                explicit_bucket_boundaries_advisory=d,
            )
            self.usage_counters = {
                field: meter.create_counter(name, "{token}", "Tokens used")
                for field, name in _USAGE_FIELDS
            }
            self.op_input_tokens = meter.create_histogram(
                semconv.METRIC_OPERATION_INPUT_TOKENS,
                "{token}",
                "Input tokens per inference",
                explicit_bucket_boundaries_advisory=tok,
            )
            self.op_output_tokens = meter.create_histogram(
                semconv.METRIC_OPERATION_OUTPUT_TOKENS,
                "{token}",
                "Output tokens per inference",
                explicit_bucket_boundaries_advisory=tok,
            )
            self.embeddings_duration = meter.create_histogram(
                semconv.METRIC_EMBEDDINGS_DURATION,
                "s",
                "GenAI embeddings duration",
                explicit_bucket_boundaries_advisory=d,
            )
            self.embeddings_tokens = meter.create_histogram(
                semconv.METRIC_EMBEDDINGS_INPUT_TOKENS,
                "{token}",
                "Input tokens per embeddings call",
                explicit_bucket_boundaries_advisory=tok,
            )
            self.op_duration = meter.create_histogram(
                semconv.METRIC_OPERATION_DURATION,
                "s",
                "GenAI client operation duration",
                explicit_bucket_boundaries_advisory=d,
            )
        self.invocation_duration = meter.create_histogram(
            semconv.METRIC_INVOCATION_DURATION,
            "s",
            "Agent and workflow invocation duration",
            explicit_bucket_boundaries_advisory=list(semconv.INVOCATION_DURATION_BUCKETS),
        )
        self.tool_duration = meter.create_histogram(
            semconv.METRIC_EXECUTE_TOOL_DURATION,
            "s",
            "Tool execution duration",
            explicit_bucket_boundaries_advisory=d,
        )
        calls = list(semconv.CALL_COUNT_BUCKETS)
        self.agent_inference_calls = meter.create_histogram(
            semconv.METRIC_AGENT_INFERENCE_CALLS,
            "{inference_call}",
            "Inference calls per agent run",
            explicit_bucket_boundaries_advisory=calls,
        )
        self.agent_tool_calls = meter.create_histogram(
            semconv.METRIC_AGENT_TOOL_CALLS,
            "{tool_call}",
            "Tool calls per agent run",
            explicit_bucket_boundaries_advisory=calls,
        )
        self.cost = meter.create_counter(
            semconv.METRIC_COST, "{USD}", "Cost of GenAI operations in USD"
        )
        self.abandoned = meter.create_counter(
            semconv.METRIC_SPANS_DROPPED, "{span}", "Spans ended by genai-trace as abandoned"
        )

    # --- per operation kind -------------------------------------------------------------------

    def inference(self, attrs: Attrs, duration_s: float, usage: Usage | None) -> None:
        if self.legacy:
            self.op_duration.record(duration_s, attrs)
            self._legacy_tokens(attrs, usage, output=True)
            return
        self.inference_duration.record(duration_s, attrs)
        if usage is None or usage.is_empty:
            self.usage_counters["input_tokens"].add(
                0, {**attrs, semconv.GEN_AI_TOKEN_MODALITY: "unknown"}
            )
            if semconv.ERROR_TYPE in attrs:  # a failed call with no usage back: 0, with error.type
                self.op_input_tokens.record(0, attrs)
            return
        for field, _ in _USAGE_FIELDS:
            total = getattr(usage, field)
            if total is None:
                continue
            self._add_by_modality(field, total, attrs, usage)
        if usage.input_tokens is not None:
            self.op_input_tokens.record(usage.input_tokens, attrs)
        elif semconv.ERROR_TYPE in attrs:
            self.op_input_tokens.record(0, attrs)
        if usage.output_tokens is not None:
            self.op_output_tokens.record(usage.output_tokens, attrs)

    def embeddings(self, attrs: Attrs, duration_s: float, usage: Usage | None) -> None:
        if self.legacy:
            self.op_duration.record(duration_s, attrs)
            self._legacy_tokens(attrs, usage, output=False)
            return
        self.embeddings_duration.record(duration_s, attrs)
        if usage is not None and usage.input_tokens is not None:
            self.embeddings_tokens.record(usage.input_tokens, attrs)
        elif semconv.ERROR_TYPE in attrs:
            self.embeddings_tokens.record(0, attrs)

    def client_operation(self, attrs: Attrs, duration_s: float) -> None:
        self.op_duration.record(duration_s, attrs)

    def tool(self, attrs: Attrs, duration_s: float) -> None:
        self.tool_duration.record(duration_s, attrs)

    def invocation(self, attrs: Attrs, duration_s: float) -> None:
        self.invocation_duration.record(duration_s, attrs)

    def agent_calls(self, attrs: Attrs, inference_calls: int, tool_calls: int) -> None:
        self.agent_inference_calls.record(inference_calls, attrs)
        self.agent_tool_calls.record(tool_calls, attrs)

    def first_chunk(self, attrs: Attrs, seconds: float) -> None:
        self.ttfc.record(seconds, attrs)

    def chunk_gap(self, attrs: Attrs, seconds: float) -> None:
        self.tpoc.record(seconds, attrs)

    def add_cost(self, attrs: Attrs, usd: float) -> None:
        self.cost.add(usd, attrs)

    def add_abandoned(self, attrs: Attrs) -> None:
        self.abandoned.add(1, attrs)

    # --- helpers ------------------------------------------------------------------------------

    def _add_by_modality(self, field: str, total: int, attrs: Attrs, usage: Usage) -> None:
        counter = self.usage_counters[field]
        key = _MODALITY_KEYS.get(field)
        rest = total
        if key is not None and usage.modalities:
            for modality, counts in usage.modalities.items():
                n = counts.get(key)
                if n:
                    counter.add(n, {**attrs, semconv.GEN_AI_TOKEN_MODALITY: modality})
                    rest -= n
        if rest > 0 or rest == total:
            counter.add(max(rest, 0), {**attrs, semconv.GEN_AI_TOKEN_MODALITY: "text"})

    def _legacy_tokens(self, attrs: Attrs, usage: Usage | None, *, output: bool) -> None:
        if usage is None:
            return
        if usage.input_tokens is not None:
            self.token_usage.record(
                usage.input_tokens, {**attrs, semconv.GEN_AI_TOKEN_TYPE: "input"}
            )
        if output and usage.output_tokens is not None:
            self.token_usage.record(
                usage.output_tokens, {**attrs, semconv.GEN_AI_TOKEN_TYPE: "output"}
            )
