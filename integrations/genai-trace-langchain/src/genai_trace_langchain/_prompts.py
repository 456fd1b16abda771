"""Prompt templates -> ``gen_ai.prompt.name``/``.version``/``.variable.*`` on the next model call.

A template and the model it feeds are siblings (``prompt | model``): the prompt run ends before
the model run starts, under the same parent. So a template is remembered under its parent run id
and taken by the first model run that starts under that parent; the parent's end drops what no
model took. The map is bounded. A named template is always put in it; an unnamed one only when
content capture is on (its variables are then all there is to record).

Named means a LangChain Hub prompt (``lc_hub_repo``/``lc_hub_commit_hash`` metadata, set by
``hub.pull``) or a template given a ``name`` of its own (not its class name); ``prompt_version``
metadata gives a version to a named template that has no hub commit. Template variables are
content: they are handed to core as a lazy that core calls only when capture is on, and that
keeps only the template's own variables (``input_variables``/``optional_variables``) of the run's
inputs (messages converted as the model's input messages are). Nothing is copied or serialised
here.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from genai_trace_langchain._messages import to_message, to_messages

__all__ = ["PendingPrompt", "PendingPrompts", "pending_prompt", "prompt_reference"]

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


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def template_variables(serialized: Mapping[str, Any] | None, inputs: Any) -> dict[str, Any]:
    """The values of the template's own variables among the prompt run's ``inputs``.

    A template with one variable may be invoked with the bare value; when the serialised template
    does not list its variables, every input of a mapping is taken."""
    kwargs = (serialized or {}).get("kwargs")
    kwargs = kwargs if isinstance(kwargs, Mapping) else {}
    required = _names(kwargs.get("input_variables"))
    if not isinstance(inputs, Mapping):
        return {required[0]: inputs} if len(required) == 1 and inputs is not None else {}
    names = required + _names(kwargs.get("optional_variables"))
    if not names:
        return {k: _as_messages(v) for k, v in inputs.items() if isinstance(k, str)}
    return {k: _as_messages(inputs[k]) for k in names if k in inputs}


def _as_messages(value: Any) -> Any:
    """A message or a list of messages (a ``MessagesPlaceholder``'s history) as core messages,
    converted as the model's input messages are (binary content blocks described as blobs)."""
    if isinstance(value, BaseMessage):
        return to_message(value)
    if isinstance(value, list) and value and all(isinstance(v, BaseMessage) for v in value):
        return to_messages(value)
    return value


@dataclass(frozen=True, slots=True)
class PendingPrompt:
    """What a prompt run tells the model run it feeds: name, version, a lazy of its variables."""

    name: str | None
    version: str | None
    variables: Callable[[], dict[str, Any]] | None


def pending_prompt(
    name: str | None,
    serialized: Mapping[str, Any] | None,
    inputs: Any,
    metadata: Mapping[str, Any] | None,
    *,
    capture_content: bool,
) -> PendingPrompt | None:
    """The record to keep for a prompt run, or ``None`` when there is nothing to record."""
    reference = prompt_reference(name, serialized, metadata)
    if reference is None and not capture_content:
        return None
    variables = functools.partial(template_variables, serialized, inputs)
    if reference is None:
        return PendingPrompt(None, None, variables)
    return PendingPrompt(reference[0], reference[1], variables)


class PendingPrompts:
    """Prompts waiting for their model call, keyed by the parent run id (bounded)."""

    __slots__ = ("_lock", "_pending")

    def __init__(self) -> None:
        self._pending: dict[Hashable, PendingPrompt] = {}
        self._lock = threading.Lock()

    def put(self, parent_run_id: Hashable, prompt: PendingPrompt) -> None:
        with self._lock:
            self._pending[parent_run_id] = prompt
            if len(self._pending) > _MAX_PENDING:  # oldest first: dicts keep insertion order
                del self._pending[next(iter(self._pending))]

    def take(self, parent_run_id: Hashable | None) -> PendingPrompt | None:
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
