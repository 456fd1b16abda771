"""The span and event handlers we put on LlamaIndex's root instrumentation dispatcher.

The dispatcher swallows handler exceptions silently, but every entry point here still catches its
own (``safe``), so a bug costs one debug log line and never a broken trace elsewhere. The handlers
keep no span objects of their own (``open_spans`` stays empty): core's registry holds the runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import SimpleSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from pydantic import ConfigDict

from genai_trace_core import safe
from genai_trace_llamaindex._bridge import Bridge

_PROPAGATION_KEY = "genai_trace"


class GenAISpanHandler(BaseSpanHandler[SimpleSpan]):
    """Dispatcher span enter/exit/drop -> the :class:`Bridge`; trace-context propagation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    if TYPE_CHECKING:
        _bridge: Bridge

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        # A plain instance attribute, not a pydantic PrivateAttr: private attributes are read
        # through pydantic's __getattr__, which is slow on a path taken for every span.
        object.__setattr__(self, "_bridge", bridge)

    @classmethod
    def class_name(cls) -> str:
        return "GenAITraceSpanHandler"

    @property
    def bridge(self) -> Bridge:
        return self._bridge

    @safe()
    def span_enter(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._bridge.enter(id_, bound_args.arguments, instance, parent_id, tags)

    @safe()
    def span_exit(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> None:
        self._bridge.exit(id_, result)

    @safe()
    def span_drop(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        self._bridge.drop(id_, err)

    # The abstract hooks of BaseSpanHandler: unused, span_enter/exit/drop are overridden.
    def new_span(self, *args: Any, **kwargs: Any) -> SimpleSpan | None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> SimpleSpan | None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> SimpleSpan | None:
        return None

    @safe(default={})
    def capture_propagation_context(self) -> dict[str, Any]:
        """The W3C trace context of the current LlamaIndex span (else of the current OTel
        context), for ``restore_propagation_context`` in another task, thread or process."""
        from llama_index.core.instrumentation.span import active_span_id

        span_id = active_span_id.get()
        ctx = self._bridge.context_of(span_id) if span_id else None
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=ctx)
        return {_PROPAGATION_KEY: carrier} if carrier else {}

    @safe()
    def restore_propagation_context(self, context: dict[str, Any]) -> None:
        """Make the captured trace context current here, unless it already is (in-process
        workflow tasks inherit it; only another thread or process needs it restored)."""
        carrier = context.get(_PROPAGATION_KEY) if isinstance(context, dict) else None
        if not carrier:
            return
        restored = propagate.extract(carrier)
        wanted = trace.get_current_span(restored).get_span_context()
        current = trace.get_current_span().get_span_context()
        if not wanted.is_valid or (current.trace_id == wanted.trace_id and current.is_valid):
            return
        otel_context.attach(restored)

    def close(self) -> None:
        self._bridge.shutdown()


class GenAIEventHandler(BaseEventHandler):
    """Dispatcher events (LLM, embedding, rerank, exception) -> the bridge's model-call part."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    if TYPE_CHECKING:
        _table: dict[type[Any], Callable[[Any], None]]

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        object.__setattr__(self, "_table", _event_table(bridge))  # see GenAISpanHandler

    @classmethod
    def class_name(cls) -> str:
        return "GenAITraceEventHandler"

    @safe()
    def handle(self, event: Any, **kwargs: Any) -> None:
        fn = self._table.get(type(event))
        if fn is not None:
            fn(event)


def _event_table(bridge: Bridge) -> dict[type[Any], Callable[[Any], None]]:
    from llama_index.core.instrumentation.events import embedding, exception, llm, rerank

    models = bridge.models  # each event goes straight to the model-call part
    return {
        llm.LLMStructuredPredictStartEvent: models.structured_start,
        llm.LLMChatStartEvent: models.chat_start,
        llm.LLMCompletionStartEvent: models.completion_start,
        llm.LLMChatInProgressEvent: models.chunk,
        llm.LLMCompletionInProgressEvent: models.chunk,
        llm.LLMChatEndEvent: models.end,
        llm.LLMCompletionEndEvent: models.end,
        exception.ExceptionEvent: models.exception,
        embedding.EmbeddingStartEvent: models.embedding_start,
        embedding.SparseEmbeddingStartEvent: models.embedding_start,
        embedding.EmbeddingEndEvent: models.embedding_end,
        embedding.SparseEmbeddingEndEvent: models.embedding_end,
        rerank.ReRankStartEvent: models.rerank_start,
        rerank.ReRankEndEvent: models.rerank_end,
    }
