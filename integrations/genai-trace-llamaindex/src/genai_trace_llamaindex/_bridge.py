"""Dispatcher spans and events -> core Telemetry calls (the state behind the dispatcher handlers).

A dispatcher span that gets a span of ours is a core run keyed by its dispatcher span id;
structural spans are *hidden* (no span; their children nest under the nearest traced ancestor,
see :mod:`._base`). Model calls are in :mod:`._models`, workflows, agents and tools in
:mod:`._agents`; this module routes the dispatcher's span enter/exit/drop between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_trace_core import Outcome, semconv
from genai_trace_llamaindex import _mapping as m
from genai_trace_llamaindex._agents import AgentEvents
from genai_trace_llamaindex._base import is_cancellation
from genai_trace_llamaindex._classify import Role, split_span_id
from genai_trace_llamaindex._models import ModelEvents
from genai_trace_llamaindex._streaming import reparent_stream

__all__ = ["Bridge", "is_cancellation"]


class Bridge(ModelEvents, AgentEvents):
    # --- dispatcher spans --------------------------------------------------------------------

    def enter(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None, tags: Any
    ) -> None:
        structured = self._structured
        if structured and parent_id in structured:
            structured.add(id_)
        if instance is None:
            if parent_id is not None and parent_id in self._workflows:
                self._step(id_, args, parent_id, tags)
            elif self.verbose:
                self._verbose(id_, parent_id)
            else:
                self.hide(id_, parent_id)
            return
        head, method = split_span_id(id_)
        role = self.classifier.role(instance, method)
        if role is Role.NOISE:
            if (
                parent_id is not None
                and parent_id in self._workflows
                and self.classifier.is_workflow(instance)  # older cores: steps are bound methods
            ):
                self._step(id_, args, parent_id, tags)
            elif self.verbose:
                self._verbose(id_, parent_id)
            else:
                self.hide(id_, parent_id)
            return
        if role is Role.LLM or role is Role.LLM_STREAM:
            self._enter_llm(id_, instance, parent_id, role)
            return
        if role is Role.TOOL:
            self._enter_tool(id_, args, instance, parent_id)
            return
        if role is Role.WORKFLOW_RUN:
            self._enter_workflow(id_, args, instance, parent_id, tags)
            return
        # Named after the instance's class (older cores name the span after the class that
        # defines the method, e.g. ``BaseQueryEngine``); aquery -> query: one name.
        short = method[1:] if method[0] == "a" else method
        head = f"{type(instance).__name__}.{short}"
        if role is Role.QUERY:
            op = m.step_operation(head, "query", query=args.get("str_or_query_bundle"))
        elif role is Role.RETRIEVE:
            op = m.retrieval_operation(instance, args.get("str_or_query_bundle"))
        elif role is Role.SYNTHESIZE:
            nodes = args.get("nodes")
            op = m.step_operation(
                head,
                "synthesize",
                query=args.get("query"),
                attributes={semconv.DOCUMENT_COUNT: len(nodes)}
                if isinstance(nodes, list)
                else None,
            )
        else:  # Role.CHAT_ENGINE
            op = m.step_operation(head, "chat_engine", query=args.get("message"))
        self._start(id_, role, op, parent_id, True)

    def exit(self, id_: str, result: Any) -> None:
        tel = self.telemetry
        if self._structured:
            self._structured.discard(id_)
        llm = self._llm.pop(id_, None)
        if llm is not None:
            self._exit_llm(id_, llm, result)
            return
        self._end_pending(id_, None)
        if self._tool_calls:
            self._tool_calls.pop(id_, None)
        hidden = self._hidden
        if id_ in hidden:
            del hidden[id_]
            return
        role = self._open.pop(id_, None)
        if role is None:
            tel.end(id_)  # a core link (our dict was full) or a run we did not keep
            return
        outcome: Outcome | None = None
        if role is Role.RETRIEVE:
            outcome = Outcome(documents=m.documents(result, tel.capture_content))
        elif role is Role.TOOL:
            outcome = self._exit_tool(id_, result)
            if outcome is None:
                return
        elif role is Role.WORKFLOW_RUN:
            self._end_workflow(id_, None)
        elif role is not Role.NOISE and hasattr(result, "response_gen"):
            reparent_stream(result, tel.context_of(id_))
            outcome = m.DEFERRED_STREAM
        tel.end(id_, outcome)

    def drop(self, id_: str, err: BaseException | None) -> None:
        tel = self.telemetry
        if self._structured:
            self._structured.discard(id_)
        self._drop_tool_call(id_, err)
        self._end_pending(id_, err)
        if self._hidden.pop(id_, False) is not False:
            return
        self._open.pop(id_, None)
        if id_ in self._workflows:
            self._end_workflow(id_, err)
        if self._llm.pop(id_, None) is not None:
            self._streams.discard(id_)
        if err is None or is_cancellation(err):
            tel.end(id_)
        else:
            tel.fail(id_, err)

    def context_of(self, span_id: str) -> Any:
        """The OTel context of a dispatcher span (of its nearest traced ancestor if hidden)."""
        run_id = self.parent(span_id)
        return self.telemetry.context_of(run_id) if run_id is not None else None

    def shutdown(self) -> None:
        self._open.clear()
        self._hidden.clear()
        self._llm.clear()
        self._streams.clear()
        self._structured.clear()
        self._workflows.clear()
        self._turns.clear()
        self._pending.clear()
        self._tool_calls.clear()
        self._tool_errors.clear()
        self.telemetry.shutdown()
