"""One trace per request on the legacy callback path.

LlamaIndex wraps a request in ``start_trace(name)`` ... ``end_trace(name)`` and reports its
top-level events with the parent ``"root"``: a chat engine's retrieval then its synthesis (and
its condensing model call), an index build's embedding batches. Each would start a trace of its
own. A request whose top-level event stands for all of it needs nothing more: a query (its
``QUERY``, or a retriever's ``RETRIEVE``, in a ``"query"`` trace) or a model's own call (its
``LLM`` event, in the trace the model method opened). Any other trace gets a span of its own,
started at its first top-level event (a trace with no event has no span), named like the
dispatcher path's (``ContextChatEngine.chat``, else the trace's name), ended at ``end_trace``;
its top-level events nest under it, those that start after it ended (a stream read later) too.
"""

from __future__ import annotations

import contextvars
import itertools
from typing import Any

from opentelemetry.context import Context

from genai_trace_core import Operation, Telemetry
from genai_trace_llamaindex import _map_steps as m
from genai_trace_llamaindex._classify import split_span_id

TOP = ("", "root")  # the parent ids of a top-level event (LlamaIndex's BASE_TRACE_EVENT)
_MODEL_TRACES = frozenset({"chat", "completion"})  # the names a model method's trace has
_MAX_NAMES = 1024
_seq = itertools.count(1)


class _Trace:
    __slots__ = ("ctx", "op", "run_id", "start_ns")

    def __init__(self, op: Operation, start_ns: int) -> None:
        self.op = op
        self.start_ns = start_ns
        self.run_id: tuple[str, int] | None = None
        self.ctx: Context | None = None  # the span's context, kept after it ended


class LegacyTraces:
    """The handler's ``start_trace``/``end_trace`` and the parent of a top-level event."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        self._model_classes: dict[str, bool] = {}
        # the open trace, per execution context and per handler (a component may still report
        # to another handler's manager, e.g. a node parser made before ``Settings`` changed)
        self._open: contextvars.ContextVar[_Trace | None] = contextvars.ContextVar(
            "genai_trace_llamaindex_legacy_trace", default=None
        )

    def start(self, name: str | None) -> None:
        head = _dispatcher_head()
        if name is None or name == "query" or (name in _MODEL_TRACES and self._by_model(head)):
            self._open.set(None)
            return
        if name == "chat" and head is not None:  # a chat engine's (or agent's) request
            op = m.step_operation(head, "chat_engine")
        else:
            op = m.step_operation(name, name)
        self._open.set(_Trace(op, self.telemetry.now()))

    def end(self) -> None:
        trace = self._open.get()
        if trace is None:
            return
        self._open.set(None)
        if trace.run_id is not None:
            self.telemetry.end(trace.run_id)

    def parent(self) -> tuple[Any, Context | None]:
        """For a top-level event: the run id to start it under, or the context to start it in
        (its trace's span ended: a stream read after the request returned); ``(None, None)``
        outside such a trace."""
        trace = self._open.get()
        if trace is None:
            return None, None
        tel = self.telemetry
        if trace.run_id is None:  # the first top-level event: the trace's span starts now
            trace.run_id = ("legacy-trace", next(_seq))
            tel.start(trace.run_id, trace.op, start_time_ns=trace.start_ns)
            trace.ctx = tel.context_of(trace.run_id)
        if tel.is_open(trace.run_id):
            return trace.run_id, None
        return None, trace.ctx

    def _by_model(self, head: str | None) -> bool:
        """Whether the dispatcher span ``head`` (``"Class.method"``) is a model's method."""
        if head is None:
            return True  # no dispatcher span to tell: as before, no span of its own
        cls = head.rpartition(".")[0]
        known = self._model_classes.get(cls)
        if known is None:
            if len(self._model_classes) >= _MAX_NAMES:
                self._model_classes.clear()
            known = self._model_classes[cls] = cls in _model_class_names()
        return known


def _dispatcher_head() -> str | None:
    """``"Class.method"`` of the innermost LlamaIndex dispatcher span here, if any (``achat``
    -> ``chat``, as the dispatcher path names it)."""
    from llama_index.core.instrumentation.span import active_span_id

    span_id = active_span_id.get()
    if not span_id:
        return None
    head, method = split_span_id(span_id)
    if method[:1] == "a" and method != "a":
        head = f"{head[: -len(method)]}{method[1:]}"
    return head


_STREAM_METHODS = frozenset({"stream_chat", "stream_complete"})


def in_stream_method() -> bool:
    """Whether this runs in a model's streaming method (its legacy ``LLM`` event says not)."""
    head = _dispatcher_head()
    return head is not None and head.rpartition(".")[2] in _STREAM_METHODS


def _model_class_names() -> set[str]:
    from llama_index.core.base.llms.base import BaseLLM

    names: set[str] = set()
    stack: list[type[Any]] = [BaseLLM]
    while stack and len(names) < 100_000:
        cls = stack.pop()
        names.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    return names
