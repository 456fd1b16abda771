"""Dispatcher spans and events -> core Telemetry calls (the state behind the dispatcher handlers).

One :class:`Bridge` holds one index of open spans (:mod:`._index`) and two parts over it: model
calls (:mod:`._model_calls`) and agent runs (:mod:`._agent_runs`). It routes the dispatcher's
span enter/exit/drop to them; the dispatcher's events go straight to the model-call part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from typing import Any

from opentelemetry import context as otel_context

from genai_trace_core import Operation, Outcome, Telemetry, detached_context, semconv
from genai_trace_llamaindex import _map_steps as m
from genai_trace_llamaindex._agent_runs import AgentRuns
from genai_trace_llamaindex._classify import Classifier, Role, split_span_id
from genai_trace_llamaindex._index import MAX_OPEN, OpenSpans, is_cancellation
from genai_trace_llamaindex._model_calls import LLM_ROLES, ModelCalls
from genai_trace_llamaindex._streaming import READING, DeferredParents, reparent_stream

__all__ = ["Bridge", "is_cancellation"]

# ``LLM.predict_and_call``: a chat call, then the tools it chose; one trace for both wherever no
# span is current (a root, or under hidden spans: a program's ``__call__``, a selector)
_CALL_THEN_ACT = frozenset({"predict_and_call", "apredict_and_call"})


def _several_batches(method: str, args: Mapping[str, Any], instance: Any) -> bool:
    """Whether an embedding batch call makes more than one model call (one per chunk of
    ``embed_batch_size`` texts); unknown sizes count as several."""
    if "batch" not in method:
        return False
    texts = args.get("texts")
    size = getattr(instance, "embed_batch_size", None)
    if isinstance(texts, Sized) and isinstance(size, int) and size > 0:
        return len(texts) > size
    return True


class Bridge:
    """LlamaIndex's dispatcher spans as core runs: one index of open spans, a model-call part
    and an agent-run part over it."""

    def __init__(self, telemetry: Telemetry, *, verbose: bool = False) -> None:
        self.telemetry = telemetry
        self.classifier = Classifier()
        self.spans = OpenSpans(telemetry, verbose)
        self.models = ModelCalls(self.spans)
        self.agents = AgentRuns(self.spans, self.classifier)
        self.deferred = DeferredParents()

    def enter(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None, tags: Any
    ) -> None:
        if parent_id is not None and parent_id == READING.get():
            # opened by the first step of a stream read in span ``parent_id`` (its lazy model
            # call): the stream's work, started where it came from (that context is current)
            parent_id = None
        ctx = self.deferred.get(parent_id) if self.deferred and parent_id is not None else None
        if ctx is None:
            self._enter(id_, args, instance, parent_id, tags)
            return
        # the parent ended returning a stream this span works on: start where it ran
        token = otel_context.attach(ctx)
        try:
            self._enter(id_, args, instance, parent_id, tags)
        finally:
            otel_context.detach(token)

    def _enter(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None, tags: Any
    ) -> None:
        models = self.models
        structured = models.structured
        if structured and parent_id in structured:
            structured.add(id_)
        within = models.within
        call = None
        if within and parent_id is not None:  # inside a model call: so are the spans it opens
            call = within.get(parent_id)
            if call is not None and len(within) < MAX_OPEN:
                within[id_] = call
        spans = self.spans
        if instance is None:
            parent = spans.entries.get(parent_id) if parent_id is not None else None
            if parent is not None and parent[0] is Role.WORKFLOW_RUN:
                self.agents.step(id_, args, parent_id, parent[1], tags)  # type: ignore[arg-type]
            else:
                spans.structural(id_, parent_id)
            return
        _, method = split_span_id(id_)
        role = self.classifier.role(instance, method)
        if role is Role.NOISE:
            parent = spans.entries.get(parent_id) if parent_id is not None else None
            if (
                parent is not None
                and parent[0] is Role.WORKFLOW_RUN
                and self.classifier.is_workflow(instance)  # older cores: steps are bound methods
            ):
                self.agents.step(id_, args, parent_id, parent[1], tags)  # type: ignore[arg-type]
            else:
                # a call-then-act under any hidden span (a program, a selector): the step, unless
                # inside a model call (a structured predict's program: its tool nests there)
                calls = _several_batches(method, args, instance) or (
                    call is None and method in _CALL_THEN_ACT
                )
                spans.structural(
                    id_, parent_id, calls=calls or self.classifier.runs_pipeline(instance, method)
                )
                if "embedding" in method:  # get_text_embedding, aget_query_embedding, ...
                    self.models.note_server(id_, instance)
        elif role in LLM_ROLES:
            self.models.enter(id_, role, instance, parent_id)
        elif role is Role.TOOL:
            # a structured predict's program runs its tool after the model call, under spans
            # linked before that call's span started (on its start event): nest it there
            hidden = call is not None and parent_id not in spans.entries
            self.agents.enter_tool(id_, args, instance, call if hidden else parent_id)
        elif role is Role.WORKFLOW_RUN:
            self.agents.enter_workflow(id_, args, instance, parent_id, tags)
        else:
            op = _component_operation(role, instance, method, args)
            spans.start(id_, role, op, parent_id, True)

    def exit(self, id_: str, result: Any) -> None:
        models = self.models
        if models.structured:
            models.structured.discard(id_)
        if models.within:
            models.within.pop(id_, None)
        if models.servers:
            models.servers.pop(id_, None)
        entry = self.spans.entries.pop(id_, None)
        if entry is not None and entry[0] in LLM_ROLES:
            models.exit(id_, entry[0], entry[1], result)
            return
        if models.pending:
            models.end_pending(id_, None)
        if self.agents.tool_calls:
            self.agents.tool_calls.pop(id_, None)
        tel = self.telemetry
        if entry is None:
            tel.end(id_)  # a hidden span (a core link), or a run we did not index
            return
        role = entry[0]
        outcome: Outcome | None = None
        if role is Role.RETRIEVE:
            outcome = Outcome(documents=m.documents(result, tel.capture_content))
        elif role is Role.TOOL:
            outcome = self.agents.exit_tool(id_, result)
            if outcome is None:
                return
        elif role is Role.WORKFLOW_RUN:
            self.agents.end_workflow(entry[1], None)
        elif role is not Role.NOISE and _is_stream(result):
            ctx = tel.context_of(id_)
            # a model stream it started is current here: its response reads it (a wrapper
            # around it); else the response's lazy model call starts under this span
            streams = models.streams
            reparent_stream(result, streams.current_activation(id_) or ctx, streams)
            self.deferred.add(id_, ctx, result)
            outcome = m.DEFERRED_STREAM
        tel.end(id_, outcome)

    def drop(self, id_: str, err: BaseException | None) -> None:
        models, agents = self.models, self.agents
        if models.structured:
            models.structured.discard(id_)
        if models.within:
            models.within.pop(id_, None)
        if models.servers:
            models.servers.pop(id_, None)
        if agents.tool_calls or agents.tool_errors:
            agents.drop_tool_call(id_, err)
        if models.pending:
            models.end_pending(id_, err)
        outcome = models.forget(id_)  # a failed call still carries what came back for it
        entry = self.spans.entries.pop(id_, None)
        if entry is not None:
            if entry[0] is Role.WORKFLOW_RUN:
                agents.end_workflow(entry[1], err)
            elif entry[0] in LLM_ROLES:
                models.streams.discard(id_)
        elif is_cancellation(err):
            # a hidden span cancelled while the work it started goes on (a sync tool's thread
            # outlives its cancelled run): what that work starts later names it as its parent,
            # and nests where it ran (it began a trace of its own). Kept until evicted (no
            # object marks the work's end), so only the span's ids: not the ended span nor its run
            ctx = self.telemetry.context_of(id_)
            if ctx is not None:
                self.deferred.add(id_, detached_context(ctx), None)
        self.spans.finish(id_, err, outcome)

    def context_of(self, span_id: str) -> Any:
        """The OTel context of a dispatcher span (of its nearest traced ancestor if hidden)."""
        return self.telemetry.context_of(span_id)

    def shutdown(self) -> None:
        self.spans.entries.clear()
        self.models.structured.clear()
        self.models.within.clear()
        self.models.nested.clear()
        self.models.folds.clear()
        self.models.unstarted.clear()
        self.models.streams.clear()
        self.models.pending.clear()
        self.deferred.clear()
        self.agents.tool_calls.clear()
        self.agents.tool_errors.clear()
        self.telemetry.shutdown()


def _component_operation(
    role: Role, instance: Any, method: str, args: Mapping[str, Any]
) -> Operation:
    """A query engine, retriever, synthesizer or chat engine call. Named after the instance's
    class (older cores name the span after the class that defines the method, e.g.
    ``BaseQueryEngine``); aquery -> query: one name."""
    short = method[1:] if method[0] == "a" else method
    head = f"{type(instance).__name__}.{short}"
    if role is Role.QUERY:
        return m.step_operation(head, "query", query=args.get("str_or_query_bundle"))
    if role is Role.RETRIEVE:
        return m.retrieval_operation(instance, args.get("str_or_query_bundle"))
    if role is Role.SYNTHESIZE:
        nodes = args.get("nodes")
        return m.step_operation(
            head,
            "synthesize",
            query=args.get("query"),
            attributes={semconv.DOCUMENT_COUNT: len(nodes)} if isinstance(nodes, list) else None,
        )
    return m.step_operation(head, "chat_engine", query=args.get("message"))  # Role.CHAT_ENGINE


def _is_stream(result: Any) -> bool:
    """A streaming query or chat response (never raises: some ``response_gen`` are properties)."""
    try:
        return hasattr(result, "response_gen")
    except Exception:
        return False
