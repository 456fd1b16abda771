"""Embeddings spans. LangChain has no embedding callbacks, so we wrap the calls themselves.

* :func:`trace_embeddings` returns a traced :class:`Embeddings` around any embeddings object.
* While :class:`~genai_trace_langchain.LangChainInstrumentor` is active, ``embed_documents``,
  ``embed_query`` and their async forms of every ``Embeddings`` subclass (present and future)
  are wrapped (``_embeddings_patch``); uninstrument restores every original.

A wrapped method is indistinguishable to its caller: any arguments (positional or keyword) pass
through as they are, an iterator input reaches the model unconsumed, the result is returned as
it is (numpy arrays included, never truth-tested) and exceptions propagate unchanged.

A span is started by the outermost wrapped call only (``embed_query`` calling
``embed_documents``, a subclass calling ``super()``, ``aembed_*`` running ``embed_*`` in an
executor all give one span). Spans nest by context: under the retriever run that is current.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings

from genai_trace_core import (
    Operation,
    OperationKind,
    Outcome,
    Telemetry,
    client_attributes,
    client_base_url,
    resolve_provider,
    safe,
    semconv,
    server_from_url,
)
from genai_trace_langchain._mapping import FRAMEWORK
from genai_trace_langchain._wrapping import ORIGINAL as _ORIGINAL

_METHODS = ("embed_documents", "embed_query", "aembed_documents", "aembed_query")
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "genai_trace_embedding", default=False
)


_MODEL_ATTRS = ("model", "model_name", "model_id", "deployment", "deployment_name")


def _model_of(embeddings: Any) -> str | None:
    for value in client_attributes(embeddings, _MODEL_ATTRS):  # getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def _input_of(query: bool, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The texts argument however it was passed (positionally, or by the base class's name)."""
    if args:
        return args[0]
    return kwargs.get("text" if query else "texts", _MISSING)


_MISSING = object()


class _Call:
    """One traced embed call. Reads the input only where it cannot change what the model sees:
    a string or a list/tuple (never an iterator, which the model must get unconsumed)."""

    __slots__ = ("count", "run_id", "telemetry")

    def __init__(self, telemetry: Telemetry, embeddings: Any, query: bool, arg: Any) -> None:
        self.telemetry = telemetry
        self.run_id = object()
        texts: Sequence[Any] | None = None
        if query:
            texts = [arg] if isinstance(arg, str) else None
        elif isinstance(arg, (list, tuple)):
            texts = arg
        self.count = 1 if query else (len(texts) if texts is not None else None)
        model = _model_of(embeddings)
        hint = type(embeddings).__name__.replace("Embeddings", "").replace("Embedding", "")
        address, port = server_from_url(client_base_url(embeddings))
        op = Operation(
            OperationKind.EMBEDDINGS,
            provider=resolve_provider(hint.lower() or None, model),
            request_model=model,
            framework=FRAMEWORK,
            estimate_input=None if texts is None else (lambda: _strings(texts)),
            server_address=address,
            server_port=port,
        )
        telemetry.start(self.run_id, op, activate=True)

    @safe()
    def end(self, result: Any) -> None:
        dim, rows = _shape(result)
        count = self.count if self.count is not None else rows
        self.telemetry.end(
            self.run_id, Outcome(embedding_dimension=dim, embedding_input_count=count)
        )

    @safe()  # a Future's done callback: never an error in the user's loop
    def settle(self, future: Any) -> None:
        """End with a done Future: its result, its exception, or cancelled."""
        if future.cancelled():
            self.fail(asyncio.CancelledError())
        elif future.exception() is not None:
            self.fail(future.exception())
        else:
            self.end(future.result())

    def fail(self, error: BaseException) -> None:
        # a cancelled call (a timeout): ``error.type=cancelled``, as the handler ends a run;
        # core's entry points never raise
        cancelled = isinstance(error, asyncio.CancelledError)
        self.telemetry.fail(self.run_id, semconv.ERROR_TYPE_CANCELLED if cancelled else error)


def _strings(texts: Sequence[Any]) -> list[str]:
    return [t for t in texts if isinstance(t, str)]


def _shape(result: Any) -> tuple[int | None, int | None]:
    """``(dimension, rows)`` of a vector or a list of vectors (lists, tuples, numpy arrays...),
    without truth-testing it (``if array:`` raises for numpy)."""
    try:
        rows = len(result)
        if rows == 0:
            return None, 0
        first = result[0]
        if hasattr(first, "__len__"):
            return len(first), rows
        return rows, 1  # one vector of floats
    except Exception:
        return None, None


def _begin(
    get_telemetry: Callable[[], Telemetry | None],
    embeddings: Any,
    query: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> _Call | None:
    if _inside.get():
        return None
    try:
        telemetry = get_telemetry()
        if telemetry is None:
            return None
        return _Call(telemetry, embeddings, query, _input_of(query, args, kwargs))
    except Exception:
        return None  # never in the caller's way: the call runs untraced


async def _end_when_awaited(call: _Call, awaitable: Awaitable[Any]) -> Any:
    """Await what a plain-``def`` ``aembed_*`` returned; the span ends when it finishes. The
    awaited result is returned as it is and its exception propagates unchanged."""
    token = _inside.set(True)
    try:
        result = await awaitable
    except BaseException as exc:
        call.fail(exc)
        raise
    finally:
        _inside.reset(token)
    call.end(result)
    return result


def _traced(
    method: str, fn: Callable[..., Any], get_telemetry: Callable[[], Telemetry | None]
) -> Any:
    """Wrap ``fn`` (an unbound embed method) so the outermost call is an embeddings span. The
    wrapper takes and passes on any arguments, returns what ``fn`` returns and raises what it
    raises; ``functools.wraps`` keeps its name, docstring and ``inspect.signature``, and the
    wrapper is a coroutine function exactly when ``fn`` is. A plain ``def aembed_*`` that returns
    an awaitable gets back an awaitable whose span ends when the awaited call finishes."""
    query = method.endswith("query")
    is_async = method.startswith("a")
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            call = _begin(get_telemetry, self, query, args, kwargs)
            if call is None:
                return await fn(self, *args, **kwargs)
            token = _inside.set(True)
            try:
                result = await fn(self, *args, **kwargs)
            except BaseException as exc:
                call.fail(exc)
                raise
            finally:
                _inside.reset(token)
            call.end(result)
            return result

        setattr(awrapper, _ORIGINAL, fn)
        return awrapper

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _begin(get_telemetry, self, query, args, kwargs)
        if call is None:
            return fn(self, *args, **kwargs)
        token = _inside.set(True)
        try:
            result = fn(self, *args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            _inside.reset(token)
        if is_async and asyncio.isfuture(result):
            # A plain ``def aembed_*`` returning a Future (``loop.run_in_executor``) or a Task:
            # returned as it is (``asyncio.wait`` refuses coroutines); the span ends with it.
            result.add_done_callback(call.settle)
            return result
        if is_async and inspect.isawaitable(result):
            # A plain ``def aembed_*`` returning an awaitable: the call runs when it is awaited.
            return _end_when_awaited(call, result)
        call.end(result)
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
    fn = _traced(method, lambda _self, *a, **k: inner(*a, **k), traced._get)
    return fn(traced.inner, arg)


async def _acall(traced: _TracedEmbeddings, method: str, arg: Any) -> Any:
    inner = getattr(traced.inner, method)

    async def call(_self: Any, *a: Any, **k: Any) -> Any:
        return await inner(*a, **k)

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
