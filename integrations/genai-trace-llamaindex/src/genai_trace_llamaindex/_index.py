"""The one index of open dispatcher spans, and how a dispatcher span becomes a core run.

A dispatcher span that stands for an operation is a core run keyed by its dispatcher span id and
has an entry here (its role and what its exit needs). A structural span (no span of ours) is
*hidden*: it goes to core's ``Telemetry.link``, the registry LangChain uses too, so its children
nest under its nearest traced ancestor; it has no entry here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry import trace

from genai_trace_core import Operation, Outcome, Telemetry
from genai_trace_llamaindex import _map_steps as m
from genai_trace_llamaindex._classify import Role, split_span_id

MAX_OPEN = 100_000  # our own bookkeeping is bounded too: a runaway never grows memory
_CANCELLED: tuple[type[BaseException], ...] = (GeneratorExit, asyncio.CancelledError)


def is_cancellation(err: BaseException | None) -> bool:
    return isinstance(err, _CANCELLED) or type(err).__name__ == "WorkflowCancelledByUser"


class OpenSpans:
    """Open dispatcher spans that have a span of ours: ``span id -> (role, data)``.

    ``data`` is what the span's part keeps for its exit (the model call of an LLM method span,
    the agent turns of a workflow run, ...), ``None`` for most spans.
    """

    __slots__ = ("entries", "telemetry", "verbose")

    def __init__(self, telemetry: Telemetry, verbose: bool) -> None:
        self.telemetry = telemetry
        self.verbose = verbose
        self.entries: dict[str, tuple[Role, Any]] = {}

    def add(self, id_: str, role: Role, data: Any = None) -> None:
        if len(self.entries) < MAX_OPEN:
            self.entries[id_] = (role, data)

    def start(
        self,
        id_: str,
        role: Role,
        op: Operation,
        parent_id: str | None,
        activate: bool,
        data: Any = None,
    ) -> None:
        """Start a core run for ``id_`` and index it (a framework root when LlamaIndex reports
        no parent: never nested under another such root still current here)."""
        self.add(id_, role, data)
        self.telemetry.start(
            id_, op, parent_run_id=parent_id, activate=activate, root=parent_id is None
        )

    def hide(self, id_: str, parent_id: str | None) -> None:
        """No span for ``id_``: a core link, so its children nest under its nearest traced
        ancestor."""
        self.telemetry.link(id_, parent_run_id=parent_id)

    def structural(
        self, id_: str, parent_id: str | None, data: Any = None, calls: bool = False
    ) -> None:
        """A span that is no operation: hidden, or a step span in verbose mode. One that makes
        several calls (``calls``: an embedding batch of more than one chunk, a chat then its
        tools) where no span is current gets its step span anyway: hidden, each call would start
        a trace (so would its calls under any hidden span above it: they have no span either)."""
        if self.verbose or (calls and not trace.get_current_span().is_recording()):
            op = m.step_operation(split_span_id(id_)[0], "llama_index.span")
            self.start(id_, Role.NOISE, op, parent_id, True, data)
        else:
            self.telemetry.link(id_, parent_run_id=parent_id)

    def finish(
        self, run_id: Any, err: BaseException | None, outcome: Outcome | None = None
    ) -> None:
        """End ``run_id`` with ``outcome`` (what came back before it ended, if anything): failed
        by ``err`` unless it is none or a cancellation. A cancelled root (a workflow cancelled by
        asyncio: LlamaIndex drops the run before its running step) ends the steps still open
        under it with it, cancelled too, not as abandoned."""
        if err is None:
            self.telemetry.end(run_id, outcome)
        elif is_cancellation(err):
            self.telemetry.end(run_id, outcome, with_descendants=True)
        else:
            self.telemetry.fail(run_id, err, outcome=outcome)
