"""The usage of a finished inference or embeddings run: the provider's numbers as the framework
reported them, normalised; else as a suppressed util-genai provider instrumentation published
them into the run's context (LangChain and LlamaIndex drop the usage of embeddings calls); else an
estimate (flagged) when the run did not fail: ``ceil(chars/4)`` per text by default, with no
tokenizer on the app's thread; tiktoken's exact count (``exact``) only when the user opted in to
offline counts exported as ``gen_ai.usage.*``. Nothing is tokenized, and the texts are not even
read, when the provider reported usage."""

from __future__ import annotations

from typing import Any

from genai_trace_core._safe import log_once
from genai_trace_core.records import Operation, Outcome, Usage
from genai_trace_core.usage import as_count, estimate_usage, normalize_unsafe


def usage_published(data: Any) -> Usage | None:
    """The usage a util-genai instrumentation published into its context data object, if any."""
    if data is None:
        return None
    counts = [
        as_count(getattr(data, name, None))
        for name in (
            "usage_input_tokens",
            "usage_output_tokens",
            "usage_cache_read_input_tokens",
            "usage_cache_write_input_tokens",
            "usage_reasoning_output_tokens",
        )
    ]
    if counts[0] is None and counts[1] is None:
        return None
    return Usage(
        input_tokens=counts[0],
        output_tokens=counts[1],
        cache_read_input_tokens=counts[2],
        cache_write_input_tokens=counts[3],
        reasoning_output_tokens=counts[4],
    )


def usage_of_run(
    op: Operation,
    outcome: Outcome | None,
    error: BaseException | str | None,
    provider_data: Any = None,
    *,
    exact: bool = False,
) -> Usage | None:
    usage = None
    if outcome is not None and outcome.raw_usage is not None:
        try:  # inside end's own ``safe``: no second wrapper, same outcome on failure
            usage = normalize_unsafe(outcome.raw_usage)
        except Exception:
            log_once("normalize-usage", "genai-trace: usage normalisation failed")
    if usage is None:
        usage = usage_published(provider_data)
    if usage is not None or error is not None:
        return usage
    inputs = op.estimate_input
    outputs = outcome.estimate_output if outcome is not None else None
    if inputs is None and outputs is None:
        return None
    return estimate_usage(
        op.request_model,
        inputs() if inputs is not None else (),
        outputs() if outputs is not None else None,  # None: no output count (embeddings)
        exact=exact,
    )
