"""Copying and pickling the handler, which LangChain puts into every run's config.

A step may ``copy.deepcopy(config)`` or pickle ``config["callbacks"]`` (to hand it to a worker,
to keep it for a retry); without genai-trace both work. The handler is a shared service, not a
value (it holds providers, locks and the runs in flight), so a copy (``copy.copy``,
``copy.deepcopy``) is the handler itself, and pickling carries a random key only, none of its
state. Unpickled, it is the handler that process traces with: the same handler while it is alive
there (a round trip in one process, a forked child), else the active ``LangChainInstrumentor``'s,
else the default handler on the global providers (the one ``GENAI_TRACE_LANGCHAIN=true`` uses),
else, when that cannot be made, a LangChain handler that does nothing. The key is made on the
first pickle: nothing is added to making a handler or to a run.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

import genai_trace_langchain
from genai_trace_core import safe

# Pickled handlers still alive in this process, by key (weakly: a handler is never kept for this).
_LIVE: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


class SharedHandler:
    """Mixin: copies are the object itself; a pickle carries a key only (module docs)."""

    _share_key: str | None = None

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        key = self._share_key
        if key is None:
            key = self._share_key = uuid.uuid4().hex
            _LIVE[key] = self
        return (revive, (key,))


def revive(key: str) -> Any:
    """What a pickled handler becomes in the process unpickling it (module docs); never raises."""
    return _revived(key) or BaseCallbackHandler()


@safe()
def _revived(key: str) -> Any:
    handler = _LIVE.get(key)
    if handler is not None:
        return handler
    # ``_hook`` through the package, which imported it first: it makes handlers, so importing it
    # from a module of the handler's would be an import cycle.
    hook = genai_trace_langchain._hook
    return hook.current() or hook._default_handler()
