"""What the nested calls of a model call reported, kept for the outer call's span."""

from __future__ import annotations

from typing import Any

from genai_trace_core import Outcome, Usage, merge_usage


class Fold:
    """What the nested calls of a model call reported: the provider's usage (summed over
    them), response model, id and finish reasons (the last). The outer call's span takes
    these over its own response's: the inner one is what went over the wire (a wrapper such
    as ``StructuredLLM`` answers with a parsed object that has no usage at all). The last
    answer's messages stand in for an outer call that has no response of its own (a structured
    predict)."""

    __slots__ = (
        "estimate_output",
        "finish_reasons",
        "output_messages",
        "response_id",
        "response_model",
        "usage",
    )

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.response_model: str | None = None
        self.response_id: str | None = None
        self.finish_reasons: Any = None
        self.output_messages: Any = None
        self.estimate_output: Any = None  # the text an estimate counts, when no usage came back

    def add(self, outcome: Outcome) -> None:
        usage = outcome.raw_usage
        if isinstance(usage, Usage):
            self.usage = merge_usage(self.usage, usage)
        self.response_model = outcome.response_model or self.response_model
        self.response_id = outcome.response_id or self.response_id
        self.finish_reasons = outcome.finish_reasons or self.finish_reasons
        self.output_messages = outcome.output_messages or self.output_messages
        self.estimate_output = outcome.estimate_output or self.estimate_output

    def over(self, own: Outcome) -> Outcome:
        """``own`` (the outer call's outcome) with what its nested calls reported."""
        own.raw_usage = self.usage if self.usage is not None else own.raw_usage
        own.response_model = self.response_model or own.response_model
        own.response_id = self.response_id or own.response_id
        own.finish_reasons = self.finish_reasons or own.finish_reasons
        own.output_messages = own.output_messages or self.output_messages
        own.estimate_output = own.estimate_output or self.estimate_output
        return own
