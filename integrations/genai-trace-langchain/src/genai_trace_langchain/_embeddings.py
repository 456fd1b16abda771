"""Embeddings spans. LangChain has no embedding callbacks, so we wrap the calls themselves.

* :func:`trace_embeddings` returns a traced :class:`Embeddings` around any embeddings object.
* While :class:`~genai_trace_langchain.LangChainInstrumentor` is active, ``embed_documents``,
  ``embed_query`` and their async forms of every ``Embeddings`` subclass (present and future)
  are wrapped; uninstrument restores every original.

A span is started by the outermost wrapped call only (``embed_query`` calling
``embed_documents``, a subclass calling ``super()``, ``aembed_*`` running ``embed_*`` in an
executor all give one span). Spans nest by context: under the retriever run that is current.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings

from genai_trace_core import (
    Operation,
    OperationKind,
    Outcome,
    Telemetry,
    client_base_url,
    resolve_provider,
    server_from_url,
)
from genai_trace_langchain._mapping import FRAMEWORK

_METHODS = ("embed_documents", "embed_query", "aembed_documents", "aembed_query")
_ORIGINAL = "__genai_trace_original__"
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "genai_trace_embedding", default=False
)


def _model_of(embeddings: Any) -> str | None:
    for attr in ("model", "model_name", "model_id", "deployment", "deployment_name"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def _operation(embeddings: Any, texts: Sequence[str]) -> Operation:
    model = _model_of(embeddings)
    hint = type(embeddings).__name__.replace("Embeddings", "").replace("Embedding", "")
    address, port = server_from_url(client_base_url(embeddings))
    return Operation(
        OperationKind.EMBEDDINGS,
        provider=resolve_provider(hint.lower() or None, model),
        request_model=model,
        framework=FRAMEWORK,
        estimate_input=lambda: list(texts),
        server_address=address,
        server_port=port,
    )


def _outcome(result: Any, count: int) -> Outcome:
    dim = None
    if result:
        first = result[0] if isinstance(result[0], (list, tuple)) else result
        dim = len(first)
    return Outcome(embedding_dimension=dim, embedding_input_count=count)


def _texts(method: str, arg: Any) -> list[str]:
    return [arg] if method.endswith("query") else list(arg)


def _traced(
    method: str, fn: Callable[..., Any], get_telemetry: Callable[[], Telemetry | None]
) -> Any:
    """Wrap ``fn`` (an unbound embed method) so the outermost call is an embeddings span."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapper(self: Any, arg: Any, *args: Any, **kwargs: Any) -> Any:
            telemetry = get_telemetry()
            if telemetry is None or _inside.get():
                return await fn(self, arg, *args, **kwargs)
            texts = _texts(method, arg)
            run_id = object()
            telemetry.start(run_id, _operation(self, texts), activate=True)
            token = _inside.set(True)
            try:
                result = await fn(self, arg, *args, **kwargs)
            except BaseException as exc:
                telemetry.fail(run_id, exc)
                raise
            finally:
                _inside.reset(token)
            telemetry.end(run_id, _outcome(result, len(texts)))
            return result

        setattr(awrapper, _ORIGINAL, fn)
        return awrapper

    @functools.wraps(fn)
    def wrapper(self: Any, arg: Any, *args: Any, **kwargs: Any) -> Any:
        telemetry = get_telemetry()
        if telemetry is None or _inside.get():
            return fn(self, arg, *args, **kwargs)
        texts = _texts(method, arg)
        run_id = object()
        telemetry.start(run_id, _operation(self, texts), activate=True)
        token = _inside.set(True)
        try:
            result = fn(self, arg, *args, **kwargs)
        except BaseException as exc:
            telemetry.fail(run_id, exc)
            raise
        finally:
            _inside.reset(token)
        telemetry.end(run_id, _outcome(result, len(texts)))
        return result

    setattr(wrapper, _ORIGINAL, fn)
    return wrapper


# --- trace_embeddings ------------------------------------------------------------------------


class _TracedEmbeddings(Embeddings):
    """Delegates to ``inner``; every call is an embeddings span on ``telemetry``."""

    def __init__(self, inner: Embeddings, get_telemetry: Callable[[], Telemetry | None]) -> None:
        self.inner = inner
        self._get = get_telemetry
        self.model = _model_of(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _op_target(self) -> Any:
        return self.inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return _call(self, "embed_documents", texts)  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return _call(self, "embed_query", text)  # type: ignore[no-any-return]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await _acall(self, "aembed_documents", texts)  # type: ignore[no-any-return]

    async def aembed_query(self, text: str) -> list[float]:
        return await _acall(self, "aembed_query", text)  # type: ignore[no-any-return]


def _call(traced: _TracedEmbeddings, method: str, arg: Any) -> Any:
    inner = getattr(traced.inner, method)
    fn = _traced(method, lambda _self, a: inner(a), traced._get)
    return fn(traced.inner, arg)


async def _acall(traced: _TracedEmbeddings, method: str, arg: Any) -> Any:
    inner = getattr(traced.inner, method)

    async def call(_self: Any, a: Any) -> Any:
        return await inner(a)

    return await _traced(method, call, traced._get)(traced.inner, arg)


def trace_embeddings(embeddings: Embeddings, *, handler: Any = None) -> Embeddings:
    """Return an :class:`Embeddings` whose calls emit ``embeddings {model}`` spans.

    Spans go to ``handler.telemetry`` if a handler is given, else to the active instrumentor's,
    else to a default handler on the global providers (created on first use).
    """
    if handler is not None:
        telemetry = handler.telemetry
        return _TracedEmbeddings(embeddings, lambda: telemetry)
    from genai_trace_langchain import _hook

    return _TracedEmbeddings(embeddings, _hook.telemetry_or_default)


# --- automatic wrapping of every Embeddings subclass -----------------------------------------


class _Patcher:
    """Wraps the embed methods of every ``Embeddings`` subclass; restores them on ``unpatch``."""

    def __init__(self) -> None:
        self.patched: list[tuple[type, str, Any]] = []
        self.get_telemetry: Callable[[], Telemetry | None] = lambda: None
        self._had_init_subclass = False
        self._orig_init_subclass: Any = None

    def patch(self, get_telemetry: Callable[[], Telemetry | None]) -> None:
        self.get_telemetry = get_telemetry
        stack: list[type] = [Embeddings]
        seen: set[type] = set()
        while stack:
            cls = stack.pop()
            if cls in seen:
                continue
            seen.add(cls)
            self.patch_class(cls)
            stack.extend(cls.__subclasses__())
        self._had_init_subclass = "__init_subclass__" in Embeddings.__dict__
        self._orig_init_subclass = Embeddings.__dict__.get("__init_subclass__")
        patcher = self

        def init_subclass(cls: Any, /, **kwargs: Any) -> None:
            super(Embeddings, cls).__init_subclass__(**kwargs)  # type: ignore[misc]
            patcher.patch_class(cls)

        hook: Any = classmethod(init_subclass)
        Embeddings.__init_subclass__ = hook  # type: ignore[method-assign]

    def patch_class(self, cls: type) -> None:
        if cls is _TracedEmbeddings:
            return
        for method in _METHODS:
            fn = cls.__dict__.get(method)
            if (
                fn is None
                or hasattr(fn, _ORIGINAL)
                or not callable(fn)
                or getattr(fn, "__isabstractmethod__", False)
            ):
                continue
            setattr(cls, method, _traced(method, fn, self._telemetry))
            self.patched.append((cls, method, fn))

    def _telemetry(self) -> Telemetry | None:
        return self.get_telemetry()

    def unpatch(self) -> None:
        for cls, method, fn in reversed(self.patched):
            setattr(cls, method, fn)
        self.patched.clear()
        if self._had_init_subclass:
            Embeddings.__init_subclass__ = self._orig_init_subclass  # type: ignore[method-assign]
        elif "__init_subclass__" in Embeddings.__dict__:
            del Embeddings.__init_subclass__
        self.get_telemetry = lambda: None


PATCHER = _Patcher()
