"""``LlamaIndexInstrumentor``: our span and event handlers on LlamaIndex's root dispatcher."""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from genai_trace_core import Settings, instrumentation_telemetry, safe
from genai_trace_llamaindex import _state
from genai_trace_llamaindex.package import _instruments
from genai_trace_llamaindex.version import SCOPE_NAME, __version__

VERBOSE_ENV = "GENAI_TRACE_LLAMAINDEX_VERBOSE"


class LlamaIndexInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Trace LlamaIndex queries, agents and workflows as OpenTelemetry GenAI spans.

    ``instrument(tracer_provider=, meter_provider=, logger_provider=, settings=, verbose=)``:
    ``verbose=True`` (or ``GENAI_TRACE_LLAMAINDEX_VERBOSE=1``) shows every dispatcher span
    instead of one span per operation. Idempotent; ``uninstrument()`` removes the handlers and
    ends any open span. Neither ever raises: a failure (a meter or logger provider that raises)
    is logged once at debug and LlamaIndex runs untraced.
    """

    _handlers: tuple[Any, Any] | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    @safe()  # never raises into the app (a provider that fails): logged once at debug
    def _instrument(self, **kwargs: Any) -> None:
        from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

        from genai_trace_llamaindex._bridge import Bridge
        from genai_trace_llamaindex._dispatcher import GenAIEventHandler, GenAISpanHandler

        settings: Settings | None = kwargs.get("settings")
        verbose = kwargs.get("verbose")
        if verbose is None:
            verbose = os.environ.get(VERBOSE_ENV, "").strip().lower() in ("1", "true", "yes")
        telemetry = instrumentation_telemetry(
            SCOPE_NAME,
            __version__,
            kwargs.get("tracer_provider"),
            kwargs.get("meter_provider"),
            kwargs.get("logger_provider"),
            settings=settings,
            clock=kwargs.get("clock"),  # tests: a deterministic nanosecond clock
        )
        bridge = Bridge(telemetry, verbose=bool(verbose))
        root = get_dispatcher()
        _remove_ours(root)  # de-duplicate: never two of our handlers on the root dispatcher
        span_handler = GenAISpanHandler(bridge)
        event_handler = GenAIEventHandler(bridge)
        root.add_span_handler(span_handler)
        root.add_event_handler(event_handler)
        self._handlers = (span_handler, event_handler)
        _state.dispatcher_active = True

    @safe()
    def _uninstrument(self, **kwargs: Any) -> None:
        from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

        _remove_ours(get_dispatcher())
        handlers = self._handlers
        self._handlers = None
        _state.dispatcher_active = False
        if handlers is not None:
            handlers[0].close()


def _remove_ours(root: Any) -> None:
    from genai_trace_llamaindex._dispatcher import GenAIEventHandler, GenAISpanHandler

    for handler in root.span_handlers:
        if isinstance(handler, GenAISpanHandler):
            handler.close()
    root.span_handlers = [h for h in root.span_handlers if not isinstance(h, GenAISpanHandler)]
    root.event_handlers = [h for h in root.event_handlers if not isinstance(h, GenAIEventHandler)]
