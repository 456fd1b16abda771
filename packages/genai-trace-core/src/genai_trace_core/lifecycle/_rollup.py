"""What an agent's span sums up from the model calls made on its behalf.

The conventions recommend, on an ``invoke_agent`` span, ``gen_ai.usage.input_tokens`` and
``gen_ai.usage.output_tokens`` (the sums over the agent's model calls) and
``gen_ai.response.finish_reasons`` (its last call's), and, with content capture on, its input
and output messages. An inference run that ends adds its numbers to every enclosing agent run
(an outer agent's calls include its sub-agents'); the agent's end reads them once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genai_trace_core import semconv
from genai_trace_core.lifecycle._run import Run
from genai_trace_core.records import OperationKind, Usage


class Rollup:
    """Sums and last values of the model calls under one agent run."""

    __slots__ = (
        "finish_reasons",
        "input_messages",
        "input_tokens",
        "output_messages",
        "output_tokens",
    )

    def __init__(self) -> None:
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.finish_reasons: tuple[str, ...] | None = None
        self.input_messages: str | None = None  # the first call's (JSON text, span capture)
        self.output_messages: str | None = None  # the last call's

    def add(
        self,
        usage: Usage | None,
        finish_reasons: Sequence[str] | None,
        input_messages: Any,
        output_messages: Any,
    ) -> None:
        if usage is not None:
            if usage.input_tokens is not None:
                self.input_tokens = (self.input_tokens or 0) + usage.input_tokens
            if usage.output_tokens is not None:
                self.output_tokens = (self.output_tokens or 0) + usage.output_tokens
        if finish_reasons:
            self.finish_reasons = tuple([str(r) for r in finish_reasons])
        if self.input_messages is None and isinstance(input_messages, str):
            self.input_messages = input_messages
        if isinstance(output_messages, str):
            self.output_messages = output_messages

    def attributes(self, content: bool) -> dict[str, Any]:
        a: dict[str, Any] = {}
        if self.input_tokens is not None:
            a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = self.input_tokens
        if self.output_tokens is not None:
            a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = self.output_tokens
        if self.finish_reasons:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = self.finish_reasons
        if content:
            if self.input_messages is not None:
                a[semconv.GEN_AI_INPUT_MESSAGES] = self.input_messages
            if self.output_messages is not None:
                a[semconv.GEN_AI_OUTPUT_MESSAGES] = self.output_messages
        return a


def roll_up(
    run: Run,
    usage: Usage | None,
    finish_reasons: Sequence[str] | None,
    content: Mapping[str, Any],
) -> None:
    """Add an ended inference run's usage, finish reasons and messages to its enclosing agents.
    ``usage`` is what the conventions may show (no offline estimate unless opted in)."""
    agents: list[Run] = []
    p = run.parent
    while p is not None:
        if p.op is not None and p.op.kind is OperationKind.INVOKE_AGENT and not p.ended:
            agents.append(p)
        p = p.parent
    if not agents:
        return
    span_attrs = getattr(run.span, "attributes", None) or {}
    inputs = span_attrs.get(semconv.GEN_AI_INPUT_MESSAGES)
    outputs = content.get(semconv.GEN_AI_OUTPUT_MESSAGES)
    for agent in agents:
        if agent.rollup is None:
            agent.rollup = Rollup()
        agent.rollup.add(usage, finish_reasons, inputs, outputs)


def rollup_attributes(run: Run, end_attrs: Mapping[str, Any], content: bool) -> dict[str, Any]:
    """An agent's summed attributes, leaving any the agent's own outcome set."""
    rollup = run.rollup
    if rollup is None:
        return {}
    return {k: v for k, v in rollup.attributes(content).items() if k not in end_attrs}
