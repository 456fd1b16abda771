"""The state every part of the dispatcher bridge shares, and how a dispatcher span id becomes
the run id core knows.

Structural dispatcher spans (no span of ours) are *hidden*: a plain bounded dict maps each to
its nearest traced ancestor (``None``: the current context), so a child resolves its parent with
one lookup and no core run is created for the hidden span. When the dict is full, a hidden span
falls back to a core ``link`` (same nesting, a little dearer).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Hashable
from typing import Any

from genai_trace_core import Operation, Telemetry
from genai_trace_llamaindex import _mapping as m
from genai_trace_llamaindex._classify import Classifier, Role, split_span_id

MAX_OPEN = 100_000  # our own bookkeeping is bounded too: a runaway never grows memory
_CANCELLED: tuple[type[BaseException], ...] = (GeneratorExit, asyncio.CancelledError)


def is_cancellation(err: BaseException | None) -> bool:
    return isinstance(err, _CANCELLED) or type(err).__name__ == "WorkflowCancelledByUser"


class LLMSpan:
    __slots__ = ("instance", "parent_id", "stream")

    def __init__(self, instance: Any, parent_id: str | None, stream: bool) -> None:
        self.instance = instance
        self.parent_id = parent_id
        self.stream = stream


NESTED = object()  # an inner chat/complete call of an outer one: no span of its own


class AgentTurns:
    """The agent an ``AgentWorkflow`` run is in (handoffs switch it): its span and name."""

    __slots__ = ("agents", "count", "name", "span_id")

    def __init__(self, agents: dict[str, Any]) -> None:
        self.agents = agents
        self.count = 0
        self.name: str | None = None
        self.span_id: str | None = None


class BridgeState:
    def __init__(self, telemetry: Telemetry, *, verbose: bool = False) -> None:
        self.telemetry = telemetry
        self.verbose = verbose
        self.classifier = Classifier()
        self._open: dict[str, Role] = {}  # dispatcher spans that have a span of ours
        self._hidden: dict[str, str | None] = {}  # hidden span -> nearest traced ancestor
        self._llm: dict[str, Any] = {}  # open chat/complete method spans -> LLMSpan | NESTED
        self._streams: set[str] = set()  # streaming inference runs not yet ended
        # dispatcher spans inside a structured predict (or a StructuredLLM call): JSON output
        self._structured: set[str] = set()
        self._workflows: dict[str, bool] = {}  # open workflow runs -> built-in agent workflow?
        self._turns: dict[str, AgentTurns] = {}  # open multi-agent workflow runs
        self._pending: dict[tuple[str, str], deque[tuple[Hashable, list[str]]]] = {}
        # FunctionTool.call spans hidden under the agent's call_tool span -> that span's id, and
        # the exception such a call raised (older cores keep it out of the ToolOutput)
        self._tool_calls: dict[str, str] = {}
        self._tool_errors: dict[str, BaseException] = {}
        self._seq = itertools.count(1)

    def parent(self, span_id: str | None) -> str | None:
        """The run id core knows for a dispatcher span: itself unless it is hidden."""
        return None if span_id is None else self._hidden.get(span_id, span_id)

    def hide(self, id_: str, parent_id: str | None) -> None:
        hidden = self._hidden
        if len(hidden) < MAX_OPEN:
            hidden[id_] = None if parent_id is None else hidden.get(parent_id, parent_id)
        else:
            self.telemetry.link(id_, parent_run_id=parent_id)

    def _start(
        self, id_: str, role: Role, op: Operation, parent_id: str | None, activate: bool
    ) -> None:
        if len(self._open) < MAX_OPEN:
            self._open[id_] = role
        self.telemetry.start(id_, op, parent_run_id=self.parent(parent_id), activate=activate)

    def _verbose(self, id_: str, parent_id: str | None) -> None:
        head, _ = split_span_id(id_)
        self._start(id_, Role.NOISE, m.step_operation(head, "llama_index.span"), parent_id, True)
