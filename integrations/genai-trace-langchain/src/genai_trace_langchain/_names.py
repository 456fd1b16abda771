"""Which root run names a user gave, and which are type names LangChain filled in.

A run's name is what the user gave it (``run_name``, ``with_config(run_name=...)``, ``name=``, a
graph's ``compile(name=...)``, a function's name in a ``RunnableLambda``), else LangChain's
default: the runnable's class name (``ChatPromptTemplate``, ``ChatOpenAI`` under ``with_retry``,
``LangGraph``), suffixed with its keys for ``RunnableParallel<a,b>``, ``RunnableAssign<y>`` and
``RunnablePick<...>``. A type name is not a workflow or agent name (the conventions want a
meaningful one), so such roots get none; ``genai_trace.run.name`` still carries it.

The callbacks do not carry the runnable (``serialized`` is ``None`` in langchain-core 1.x), so a
type name is recognised by its text: a known default name, or the name of a class that subclasses
``Runnable``. The class names are collected from ``Runnable.__subclasses__()`` (about 0.1 ms),
again only when a name is not among them and the last collection is more than a second old: a
class defined since is recognised at most a second later, and user-named roots cost one set
lookup. Nothing here is a general-purpose library: it is LangChain's naming rule, read back.
"""

from __future__ import annotations

import time

# Default names LangGraph and LangChain use that are not (or not always) a class's own name.
_DEFAULT_NAMES = frozenset(
    {
        "LangGraph",
        "CompiledStateGraph",
        "CompiledGraph",
        "Pregel",
        "RunnableSequence",
        "RunnableParallel",
        "RunnableLambda",
        "RunnableAssign",
        "RunnablePassthrough",
        "RunnableBranch",
        "RunnableWithFallbacks",
        "RunnableBinding",
        "RunnableEach",
        "RunnableGenerator",
        "RunnablePick",
        "RunnableRetry",
        "RunnableSerializable",
    }
)
_RECOLLECT_AFTER_S = 1.0


class _Classes:
    names: frozenset[str] = frozenset()
    collected_at = float("-inf")


def _collect() -> frozenset[str]:
    from langchain_core.runnables import Runnable  # a LangChain run is calling: it is imported

    seen: set[type] = set()
    stack: list[type] = [Runnable]
    while stack:
        subclasses: list[type] = type.__subclasses__(stack.pop())
        for sub in subclasses:
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return frozenset(cls.__name__ for cls in seen)


def is_type_name(name: str) -> bool:
    """True when ``name`` is a default LangChain filled in: a type name, not the user's."""
    base = name.split("<", 1)[0] if name.endswith(">") else name
    if base in _DEFAULT_NAMES or base in _Classes.names:
        return True
    now = time.monotonic()
    if now - _Classes.collected_at < _RECOLLECT_AFTER_S:
        return False
    _Classes.names = _collect()
    _Classes.collected_at = now
    return base in _Classes.names


def user_given(name: str | None) -> str | None:
    """``name`` if the user gave it, else ``None`` (no name, or LangChain's type name)."""
    if not name or is_type_name(name):
        return None
    return name
