"""The usage of a finished inference or embeddings run: the provider's numbers, normalised, or a
tiktoken estimate (flagged) when the provider reported none and the run did not fail."""

from __future__ import annotations

from genai_trace_core._safe import log_once
from genai_trace_core._types import Operation, Outcome, Usage


def usage_of_run(
    op: Operation, outcome: Outcome | None, error: BaseException | str | None
) -> Usage | None:
    from genai_trace_core._usage import normalize_unsafe

    usage = None
    if outcome is not None and outcome.raw_usage is not None:
        try:  # inside end's own ``safe``: no second wrapper, same outcome on failure
            usage = normalize_unsafe(outcome.raw_usage)
        except Exception:
            log_once("normalize-usage", "genai-trace: usage normalisation failed")
    if usage is not None or error is not None:
        return usage
    inputs = op.estimate_input
    outputs = outcome.estimate_output if outcome is not None else None
    if inputs is None and outputs is None:
        return None
    from genai_trace_core._tokens import estimate_usage

    return estimate_usage(
        op.request_model,
        inputs() if inputs is not None else (),
        outputs() if outputs is not None else None,  # None: no output count (embeddings)
    )
