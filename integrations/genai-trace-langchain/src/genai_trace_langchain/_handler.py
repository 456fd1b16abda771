"""``OpenTelemetryCallbackHandler``: LangChain callbacks -> genai-trace core calls.

The handler keeps almost no state of its own: core's :class:`~genai_trace_core.Telemetry` keys
every run by LangChain's ``run_id`` and nests it under ``parent_run_id``; the exceptions are a
small bounded map of named prompt templates waiting for the model call they feed (``_prompts``)
and a bounded set of the open streamed roots, whose cancellation is no error (``_cancelled``).
``run_inline = True`` makes LangChain's async callback manager call these (sync) methods in the
running task, so activating a span here makes it current for the code the run executes next, with
no thread hop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import _logs, metrics, trace

from genai_trace_core import (
    Operation,
    OperationKind,
    Outcome,
    Settings,
    TaskEnds,
    Telemetry,
    instrumentation_telemetry,
    safe,
    semconv,
)
from genai_trace_langchain import _inference, _mapping
from genai_trace_langchain._cancelled import StreamRoots, error_of, user_streamed
from genai_trace_langchain._prompts import PendingPrompts, pending_prompt
from genai_trace_langchain._shared import SharedHandler
from genai_trace_langchain._stream_roots import is_stream_root
from genai_trace_langchain.version import SCOPE_NAME, __version__

# Roots LangChain does not end when their asyncio task is cancelled (core's ``TaskEnds``); an async
# text completion is not one: its start runs in a child task of ``asyncio.gather``.
_WATCHED = frozenset({OperationKind.CHAT, OperationKind.RETRIEVAL})


class OpenTelemetryCallbackHandler(SharedHandler, BaseCallbackHandler):
    """Turns every LangChain/LangGraph run into a nested OpenTelemetry GenAI span.

    Pass it in ``config={"callbacks": [handler]}`` or to a model or chain, or let
    :class:`~genai_trace_langchain.LangChainInstrumentor` add it to every run. Providers default to
    the global ones. ``settings`` overrides the process-wide :class:`genai_trace_core.Settings`;
    ``telemetry`` shares an existing core :class:`~genai_trace_core.Telemetry` (tests, embeddings).
    A copy of it is itself; unpickled, it is the handler of the process unpickling it (``_shared``).
    """

    run_inline = True
    raise_error = False

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        *,
        settings: Settings | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        super().__init__()
        self.telemetry = telemetry or instrumentation_telemetry(
            SCOPE_NAME, __version__, tracer_provider, meter_provider, logger_provider, settings
        )
        self._prompts = PendingPrompts()
        self._task_ends = TaskEnds(self.telemetry)
        self._streams = StreamRoots()  # open streamed roots: their CancelledError is no error

    # --- models ----------------------------------------------------------------------------

    @safe()
    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        op = _inference.inference_operation(
            OperationKind.CHAT,
            messages[0] if messages else [],
            kwargs.get("invocation_params"),
            metadata,
            tags,
            serialized,
        )
        self._add_prompt(op, parent_run_id)
        self._start(run_id, op, parent_run_id, tags)

    @safe()
    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        params = kwargs.get("invocation_params")
        kind = OperationKind.TEXT_COMPLETION
        op = _inference.inference_operation(kind, prompts, params, metadata, tags, serialized)
        self._add_prompt(op, parent_run_id)
        self._start(run_id, op, parent_run_id, tags)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.telemetry.chunk(run_id)  # core's entry points never raise

    @safe()
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._task_ends.forget(run_id)
        self.telemetry.end(run_id, _inference.inference_outcome(response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    # --- chains ----------------------------------------------------------------------------

    @safe()
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = kwargs.get("name")
        if not name and serialized:
            name = serialized.get("name") or (serialized.get("id") or [None])[-1]
        run_type = kwargs.get("run_type")
        op = _mapping.chain_operation(name, run_type, parent_run_id, metadata, tags)
        if run_type == "prompt" and parent_run_id is not None:
            prompt = pending_prompt(
                name, serialized, inputs, metadata, capture_content=self.telemetry.capture_content
            )
            if prompt is not None:  # for the model run that follows under the same parent
                self._prompts.put(parent_run_id, prompt)
        # A streamed root (stream/astream start it with a placeholder input; a LangGraph graph
        # always streams, ``invoke`` included) runs its steps in copied contexts and hands chunks to
        # the caller's loop in its own context: made current there, it would adopt its spans.
        stream_root = parent_run_id is None and is_stream_root(inputs, metadata)
        self._start(run_id, op, parent_run_id, tags, activate=not stream_root)
        if stream_root and user_streamed(inputs):
            self._streams.add(run_id)
        if parent_run_id is None:  # ended by its task's cancellation when LangChain reports none
            self._task_ends.watch(run_id, on_cancel=self._fail)

    @safe()  # the prompt map is ours: a bad run id must not raise from it
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._prompts.drop(run_id)
        root = kwargs.get("parent_run_id") is None
        if root:
            self._streams.discard(run_id)
            self._task_ends.forget(run_id)
        # a sync stream closed early ends its root first: what is open under it ends with it
        self.telemetry.end(run_id, with_descendants=root)

    @safe()
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._prompts.drop(run_id)
        self._fail(run_id, error)

    # --- tools -----------------------------------------------------------------------------

    @safe()
    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        op = _mapping.tool_operation(
            serialized=serialized,
            input_str=input_str,
            inputs=inputs,
            name=kwargs.get("name"),
            tool_call_id=kwargs.get("tool_call_id"),
            metadata=metadata,
            tags=tags,
        )
        self._start(run_id, op, parent_run_id, tags)

    @safe()
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            outcome, failed = _mapping.tool_outcome(output)
        except Exception:  # an output whose attributes raise: the span still ends, no result
            outcome, failed = Outcome(), False
        if failed:
            outcome.tool_result = None  # a result is recorded only for a successful call
            self.telemetry.fail(run_id, semconv.ERROR_TYPE_TOOL_ERROR, outcome=outcome)
        else:
            self.telemetry.end(run_id, outcome)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        # Newer langchain-core passes the call id here too; 1.0.x has it nowhere for a raise.
        attrs = _mapping.tool_call_id_attributes(kwargs.get("tool_call_id"))
        self._fail(run_id, error, Outcome(attributes=attrs) if attrs else None)

    # --- retrievers ------------------------------------------------------------------------

    @safe()
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        op = _mapping.retriever_operation(query, kwargs.get("name"), metadata, tags)
        self._start(run_id, op, parent_run_id, tags)

    @safe()
    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        self._task_ends.forget(run_id)
        self.telemetry.end(run_id, _mapping.retriever_outcome(documents))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error)

    # --- events ----------------------------------------------------------------------------

    @safe()
    def on_retry(self, retry_state: Any, *, run_id: UUID, **kwargs: Any) -> None:
        attempt = getattr(retry_state, "attempt_number", None)
        attrs = {semconv.EVENT_RETRY_ATTEMPT: attempt} if isinstance(attempt, int) else None
        self.telemetry.add_event(run_id, semconv.EVENT_RETRY, attrs)

    @safe()
    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.telemetry.add_event(
            run_id, semconv.EVENT_CUSTOM, {semconv.EVENT_CUSTOM_NAME: str(name)}
        )

    # --- internals -------------------------------------------------------------------------

    def _start(
        self, run_id: UUID, op: Operation, parent: UUID | None, tags: Any, activate: bool = True
    ) -> None:
        # ``root``: LangChain starts every item's root of a batch (``batch``, ``generate``) in the
        # caller's context before running any; core keeps such roots siblings.
        self.telemetry.start(
            run_id, op, parent_run_id=parent, activate=activate, root=parent is None
        )
        # ``with_retry`` tags the child it re-runs (chain, model, tool, retriever) with the attempt
        attempt = _mapping.retry_attempt(tags) if parent is not None else None
        if attempt is not None:  # an event on the retry run
            self.telemetry.add_event(
                parent, semconv.EVENT_RETRY, {semconv.EVENT_RETRY_ATTEMPT: attempt}
            )
        if parent is None and op.kind in _WATCHED:
            self._task_ends.watch(run_id)

    def _add_prompt(self, op: Operation, parent_run_id: UUID | None) -> None:
        prompt = self._prompts.take(parent_run_id)
        if prompt is not None:
            op.prompt_name, op.prompt_version = prompt.name, prompt.version
            op.prompt_variables = prompt.variables

    @safe()
    def _fail(self, run_id: UUID, error: BaseException, outcome: Outcome | None = None) -> None:
        self._task_ends.forget(run_id)
        # the app stopped reading a stream, or a streamed request's client went away: no error,
        # and a model streaming under it (which LangChain may never end) ends with it
        if self._streams.stopped(self.telemetry, run_id, error) or isinstance(error, GeneratorExit):
            self.telemetry.end(run_id, outcome, with_descendants=True, with_streams=True)
            return
        reason = error_of(error)
        if reason is None:
            self.telemetry.end(run_id, outcome or Outcome())
        else:  # a cancelled root's model call LangChain never ends: abandoned with it, not later
            cancelled = reason == semconv.ERROR_TYPE_CANCELLED
            self.telemetry.fail(run_id, reason, outcome=outcome, with_streams=cancelled)
