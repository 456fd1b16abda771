# mypy: disable-error-code="import-not-found"
"""Switch one instrumentation on for one framework, at its default settings.

``none`` adds nothing; ``noop`` adds a handler that does nothing (LangChain: an inheritable
callback handler on every callback manager, the way every tracer attaches; LlamaIndex: a span
handler that only tracks open spans plus an event handler), i.e. the framework's own dispatch
cost that any tracer pays. Competitors are imported only here, only in the bench environment.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

INSTRUMENTATIONS = (
    "none",
    "noop",
    "genai_trace",
    "genai_trace_content",
    "openinference",
    "openllmetry",
    "otel",
)
COMPETITORS = ("openinference", "openllmetry", "otel")
CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


class Unavailable(RuntimeError):
    """The instrumentation cannot be installed in this environment."""


def prepare_env(name: str) -> None:
    """Environment an instrumentation reads at import time (call before importing it)."""
    os.environ.pop(CONTENT_ENV, None)
    if name == "genai_trace_content":
        os.environ[CONTENT_ENV] = "SPAN_ONLY"
    os.environ.setdefault("TRACELOOP_TELEMETRY", "false")


def install(name: str, framework: str, provider: TracerProvider) -> None:
    if name == "none":
        return
    if name == "noop":
        (_noop_langchain if framework == "langchain" else _noop_llamaindex)()
        return
    try:
        instrumentor = _instrumentor(name, framework)
    except ImportError as exc:
        raise Unavailable(f"{name}/{framework}: {exc}") from exc
    kwargs: dict[str, Any] = {"tracer_provider": provider}
    if name == "otel":
        # The official package's dependency check wants the `langchain` distribution; with only
        # langchain-core it logs "nothing can be instrumented" and emits nothing.
        kwargs["skip_dep_check"] = True
    instrumentor.instrument(**kwargs)


def _instrumentor(name: str, framework: str) -> Any:
    lc = framework == "langchain"
    if name in ("genai_trace", "genai_trace_content"):
        if lc:
            from genai_trace_langchain import LangChainInstrumentor

            return LangChainInstrumentor()
        from genai_trace_llamaindex import LlamaIndexInstrumentor

        return LlamaIndexInstrumentor()
    if name == "openinference":
        if lc:
            from openinference.instrumentation.langchain import LangChainInstrumentor as OI

            return OI()
        from openinference.instrumentation.llama_index import LlamaIndexInstrumentor as OIL

        return OIL()
    if name == "openllmetry":
        if lc:
            from opentelemetry.instrumentation.langchain import LangchainInstrumentor as TL

            return TL()
        from opentelemetry.instrumentation.llamaindex import LlamaIndexInstrumentor as TLL

        return TLL()
    if name == "otel":
        if lc:
            from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor as OT

            return OT()
        from opentelemetry.instrumentation.genai.llama_index import LlamaIndexInstrumentor as OTL

        return OTL()
    raise Unavailable(f"unknown instrumentation {name!r}")


def _noop_langchain() -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.callbacks.base import BaseCallbackManager

    class NoopHandler(BaseCallbackHandler):
        pass

    handler = NoopHandler()
    original = BaseCallbackManager.__init__

    def init(self: BaseCallbackManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not any(isinstance(h, NoopHandler) for h in self.inheritable_handlers):
            self.add_handler(handler, inherit=True)

    BaseCallbackManager.__init__ = init  # type: ignore[method-assign]


def _noop_llamaindex() -> None:
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler
    from llama_index.core.instrumentation.events import BaseEvent
    from llama_index.core.instrumentation.span_handlers import NullSpanHandler
    from llama_index_instrumentation import get_dispatcher

    # Entering/exiting spans does nothing (no span objects, no lock): what remains is the
    # dispatcher calling one more span handler and one event handler.
    class NoopSpanHandler(NullSpanHandler):
        def span_drop(self, *args: Any, **kwargs: Any) -> None:
            return None

    class NoopEventHandler(BaseEventHandler):
        def handle(self, event: BaseEvent, **kwargs: Any) -> None:
            return None

    dispatcher = get_dispatcher()
    dispatcher.add_span_handler(NoopSpanHandler())
    dispatcher.add_event_handler(NoopEventHandler())
