"""``OpenTelemetryCallbackHandler``: the legacy ``llama_index.core.callbacks`` path.

For users on ``Settings.callback_manager`` or ``llama_index.core.global_handler``
(``set_global_handler`` is a hard-coded list of names: a new package cannot add one). The
same mapping feeds it as the dispatcher path. ``CallbackManager`` does not catch handler
errors, so every method catches its own. While :class:`LlamaIndexInstrumentor` is active
this handler stays silent (no duplicate spans). ``aget_text_embedding_batch`` reports its chunks'
starts, then awaits them with no ``try``: a cancelled or failed batch reports no end for them, so
a root embedding event started in an asyncio task ends with that task at the latest (core's
``TaskEnds``: without error when it was cancelled, as ``abandoned`` when it carried on).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from opentelemetry import _logs, metrics, trace
from opentelemetry import context as otel_context

from genai_trace_core import Outcome, Settings, TaskEnds, instrumentation_telemetry, safe
from genai_trace_llamaindex import _map_models as mm
from genai_trace_llamaindex import _map_steps as m
from genai_trace_llamaindex import _state
from genai_trace_llamaindex._index import is_cancellation
from genai_trace_llamaindex._legacy_traces import TOP, LegacyTraces, in_stream_method
from genai_trace_llamaindex._prompts import template_name
from genai_trace_llamaindex._streaming import reparent_stream
from genai_trace_llamaindex.version import SCOPE_NAME, __version__

_STEPS = {
    CBEventType.QUERY: "query",
    CBEventType.SYNTHESIZE: "synthesize",
    CBEventType.SUB_QUESTION: "sub_question",
    CBEventType.TREE: "tree",
}
_MAX_TEMPLATES = 1024


class OpenTelemetryCallbackHandler(BaseCallbackHandler):
    """Legacy callback handler producing the same GenAI spans as the instrumentor."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        *,
        settings: Settings | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.telemetry = instrumentation_telemetry(
            SCOPE_NAME, __version__, tracer_provider, meter_provider, logger_provider, settings
        )
        self.verbose = verbose
        # event id -> (event type, parent id) for the open LLM events (nested-call detection)
        self._llm: dict[str, tuple[bool, str]] = {}
        self._nested: set[str] = set()
        self._texts: dict[str, list[str]] = {}
        self._task_ends = TaskEnds(self.telemetry, cancelled_is_error=False)
        # parent id -> (template name, variables) of a TEMPLATING event, for the next LLM event
        # under the same parent (``LLM.predict`` logs the template, then calls the model)
        self._templates: dict[str, tuple[str | None, Any]] = {}
        self._traces = LegacyTraces(self.telemetry)

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        if not _state.dispatcher_active:
            self._start(event_type, payload or {}, event_id, parent_id)
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        self._end(event_type, payload or {}, event_id)

    @safe()
    def start_trace(self, trace_id: str | None = None) -> None:
        """A request starts: its top-level events share one trace (see ``_legacy_traces``)."""
        if not _state.dispatcher_active:
            self._traces.start(trace_id)

    @safe()
    def end_trace(
        self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None
    ) -> None:
        self._traces.end()

    def shutdown(self) -> None:
        """End every open span (as abandoned)."""
        self._templates.clear()
        self.telemetry.shutdown()

    # --- mapping -----------------------------------------------------------------------------

    @safe()
    def _start(
        self, event_type: CBEventType, p: dict[str, Any], event_id: str, parent: str
    ) -> None:
        parent_id: Any = parent or None
        if parent in TOP:  # a top-level event: under its trace's span, if it has one
            run_id, ctx = self._traces.parent()
            if ctx is not None:  # that span ended (a stream read later): nest where it was
                token = otel_context.attach(ctx)
                try:
                    self._map_start(event_type, p, event_id, parent, None)
                finally:
                    otel_context.detach(token)
                return
            parent_id = run_id or parent_id
        self._map_start(event_type, p, event_id, parent, parent_id)

    def _map_start(
        self, event_type: CBEventType, p: dict[str, Any], event_id: str, parent: str, parent_id: Any
    ) -> None:
        tel = self.telemetry
        if event_type is CBEventType.LLM:
            chat = EventPayload.MESSAGES in p
            # CustomLLM chat -> complete: LLM events are leaves, so the inner call has the same
            # parent as the outer one, and starts while the outer chat is open.
            for other_chat, other_parent in self._llm.values():
                if other_chat and not chat and other_parent == parent:
                    self._nested.add(event_id)
                    return
            self._llm[event_id] = (chat, parent)
            name, variables = self._templates.pop(parent, (None, None))
            op = mm.llm_operation(
                chat=chat,
                model_dict=p.get(EventPayload.SERIALIZED),
                instance=None,
                messages=p.get(EventPayload.MESSAGES),
                prompt=p.get(EventPayload.PROMPT),
                additional_kwargs=p.get(EventPayload.ADDITIONAL_KWARGS),
                stream=in_stream_method(),  # kept open by its trace's span that ends first
                prompt_name=name,
                prompt_variables=variables if isinstance(variables, dict) else None,
            )
            tel.start(event_id, op, parent_run_id=parent_id)
        elif event_type is CBEventType.TEMPLATING:
            # merged into the next LLM span: no span of its own
            if len(self._templates) >= _MAX_TEMPLATES:
                self._templates.clear()
            self._templates[parent] = (
                template_name(p.get(EventPayload.TEMPLATE)),
                p.get(EventPayload.TEMPLATE_VARS),
            )
            tel.link(event_id, parent_run_id=parent_id)
        elif event_type is CBEventType.EMBEDDING:
            texts: list[str] = []
            self._texts[event_id] = texts
            op = mm.embeddings_operation(p.get(EventPayload.SERIALIZED), None, lambda: texts)
            tel.start(event_id, op, parent_run_id=parent_id)
            if parent_id is None or not tel.is_open(parent_id):  # a root: see the module docs
                self._task_ends.watch(event_id, self._forget_texts)
        elif event_type is CBEventType.RETRIEVE:
            op = m.retrieval_operation(None, p.get(EventPayload.QUERY_STR))
            tel.start(event_id, op, parent_run_id=parent_id, activate=True)
        elif event_type is CBEventType.RERANKING:
            op = m.rerank_operation(
                p.get(EventPayload.MODEL_NAME),
                p.get(EventPayload.TOP_K),
                p.get(EventPayload.NODES),
                p.get(EventPayload.QUERY_STR),
            )
            tel.start(event_id, op, parent_run_id=parent_id, activate=True)
        elif event_type in _STEPS:
            name = _STEPS[event_type]
            op = m.step_operation(name, name, query=p.get(EventPayload.QUERY_STR))
            tel.start(event_id, op, parent_run_id=parent_id, activate=True)
        elif self.verbose:
            name = str(getattr(event_type, "value", event_type))
            tel.start(
                event_id, m.step_operation(name, name), parent_run_id=parent_id, activate=True
            )
        else:
            tel.link(event_id, parent_run_id=parent_id)

    def _forget_texts(self, event_id: Any) -> None:
        self._texts.pop(event_id, None)

    @safe()
    def _end(self, event_type: CBEventType, p: dict[str, Any], event_id: str) -> None:
        tel = self.telemetry
        self._task_ends.forget(event_id)
        if event_type is CBEventType.LLM:
            self._llm.pop(event_id, None)
            if event_id in self._nested:
                self._nested.discard(event_id)
                return
        error = p.get(EventPayload.EXCEPTION)
        if isinstance(error, BaseException):
            self._texts.pop(event_id, None)
            if is_cancellation(error):
                tel.end(event_id)
            else:
                tel.fail(event_id, error)
            return
        outcome: Outcome | None = None
        if event_type is CBEventType.LLM:
            response = p.get(EventPayload.RESPONSE) or p.get(EventPayload.COMPLETION)
            outcome = mm.llm_outcome(response)
        elif event_type is CBEventType.EMBEDDING:
            chunks = p.get(EventPayload.CHUNKS)
            texts = self._texts.pop(event_id, None)
            if texts is not None and chunks:
                texts.extend(str(c) for c in chunks)
            outcome = mm.embeddings_outcome(chunks, p.get(EventPayload.EMBEDDINGS))
        elif event_type is CBEventType.RETRIEVE:
            outcome = Outcome(documents=m.documents(p.get(EventPayload.NODES), tel.capture_content))
        elif event_type is CBEventType.RERANKING:
            attrs = m.document_count(p.get(EventPayload.NODES))
            if attrs is not None:
                outcome = Outcome(attributes=attrs)
        elif event_type in _STEPS:
            response = p.get(EventPayload.RESPONSE)
            if response is not None and hasattr(response, "response_gen"):
                reparent_stream(response, tel.context_of(event_id))
                outcome = m.DEFERRED_STREAM
        tel.end(event_id, outcome)
