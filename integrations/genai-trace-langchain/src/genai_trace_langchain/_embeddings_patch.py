"""Wrapping the embed methods of every ``Embeddings`` subclass, present and future, while
:class:`~genai_trace_langchain.LangChainInstrumentor` is active; ``unpatch`` restores them all."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from langchain_core.embeddings import Embeddings

from genai_trace_core import Telemetry, safe
from genai_trace_langchain._embeddings import _METHODS, _traced, _TracedEmbeddings
from genai_trace_langchain._wrapping import ORIGINAL


class _Patcher:
    """Wraps the embed methods of every ``Embeddings`` subclass; restores them on ``unpatch``."""

    def __init__(self) -> None:
        # Weakly: a class the app drops (one made per tenant, per test...) must stay collectable;
        # each wrapper carries its original under ``ORIGINAL`` for ``unpatch``.
        self.patched: weakref.WeakSet[type] = weakref.WeakSet()
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
            patcher.patch_class(cls)  # never raises: the class is then defined untraced

        hook: Any = classmethod(init_subclass)
        Embeddings.__init_subclass__ = hook  # type: ignore[method-assign]

    @safe()  # a class we cannot wrap (a metaclass that refuses setattr, ...) stays untraced
    def patch_class(self, cls: type) -> None:
        if cls is _TracedEmbeddings:
            return
        self.patched.add(cls)  # first: a class we wrap is always one ``unpatch`` restores
        for method in _METHODS:
            fn = cls.__dict__.get(method)
            if (
                not inspect.isfunction(fn)  # static/class methods and other descriptors: untouched
                or hasattr(fn, ORIGINAL)
                or getattr(fn, "__isabstractmethod__", False)
            ):
                continue
            setattr(cls, method, _traced(method, fn, self._telemetry))

    def _telemetry(self) -> Telemetry | None:
        return self.get_telemetry()

    def unpatch(self) -> None:
        for cls in list(self.patched):
            for method in _METHODS:
                original = getattr(cls.__dict__.get(method), ORIGINAL, None)
                if original is not None:
                    setattr(cls, method, original)
        self.patched.clear()
        if self._had_init_subclass:
            Embeddings.__init_subclass__ = self._orig_init_subclass  # type: ignore[method-assign]
        elif "__init_subclass__" in Embeddings.__dict__:
            del Embeddings.__init_subclass__
        self.get_telemetry = lambda: None


PATCHER = _Patcher()
