"""Prompt templates -> ``gen_ai.prompt.name``/``gen_ai.prompt.version`` on the next model call.

A template and the model it feeds are siblings (``prompt | model``): the prompt run ends before
the model run starts, under the same parent. So a named template is remembered under its parent
run id and taken by the first model run that starts under that parent; the parent's end drops
what no model took. The map is bounded, and only named templates are ever put in it.

Named means a LangChain Hub prompt (``lc_hub_repo``/``lc_hub_commit_hash`` metadata, set by
``hub.pull``) or a template given a ``name`` of its own (not its class name); ``prompt_version``
metadata gives a version to a named template that has no hub commit. Template variables are
content and are not recorded here (see the README).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from typing import Any

__all__ = ["PendingPrompts", "prompt_reference"]

_MAX_PENDING = 1024
_NO_OWNER = ("", "-")  # hub.pull of your own private prompt records owner "-"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def prompt_reference(
    name: str | None, serialized: Mapping[str, Any] | None, metadata: Mapping[str, Any] | None
) -> tuple[str, str | None] | None:
    """``(prompt name, version)`` of a prompt run, or ``None`` for an unnamed template."""
    meta = metadata or {}
    repo = _str(meta.get("lc_hub_repo"))
    if repo is not None:
        owner = _str(meta.get("lc_hub_owner"))
        full = repo if owner is None or owner in _NO_OWNER or "/" in repo else f"{owner}/{repo}"
        return full, _str(meta.get("lc_hub_commit_hash"))
    ids = (serialized or {}).get("id")
    class_name = ids[-1] if isinstance(ids, list) and ids else None
    if name is None or name == class_name or name.endswith("PromptTemplate"):
        return None
    return name, _str(meta.get("prompt_version"))


class PendingPrompts:
    """Named prompts waiting for their model call, keyed by the parent run id (bounded)."""

    __slots__ = ("_lock", "_pending")

    def __init__(self) -> None:
        self._pending: dict[Hashable, tuple[str, str | None]] = {}
        self._lock = threading.Lock()

    def put(self, parent_run_id: Hashable, reference: tuple[str, str | None]) -> None:
        with self._lock:
            self._pending[parent_run_id] = reference
            if len(self._pending) > _MAX_PENDING:  # oldest first: dicts keep insertion order
                del self._pending[next(iter(self._pending))]

    def take(self, parent_run_id: Hashable | None) -> tuple[str, str | None] | None:
        """The prompt the model run under ``parent_run_id`` was fed, if any (at most once)."""
        if parent_run_id is None or not self._pending:  # the common case: no lock, no lookup
            return None
        with self._lock:
            return self._pending.pop(parent_run_id, None)

    def drop(self, run_id: Hashable) -> None:
        """``run_id`` ended: forget a prompt none of its children consumed."""
        if self._pending:
            with self._lock:
                self._pending.pop(run_id, None)

    def __len__(self) -> int:
        return len(self._pending)
