"""Context entries that tell provider instrumentations (openai, anthropic, ...) not to create a
second inference or embeddings span inside ours, scoped exactly to the activated context of one
model call (they go away with it: nothing leaks into later calls).

Two families of provider instrumentation are covered:

- OpenLLMetry's check a plain string key (``suppress_language_model_instrumentation``), for
  chat, completion and embeddings calls alike.
- Those built on ``opentelemetry-util-genai`` (``opentelemetry-instrumentation-genai-openai``,
  ``openai-v2`` with ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``, ...) skip
  their span when the context holds an outer invocation's data object under their key; they
  then publish their data into that object instead. util-genai is never imported here: if no
  module has imported it, no instrumentation built on it is running, and there is nothing to
  suppress. When it is loaded, each call gets a fresh data object (never shared across calls).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from genai_trace_core.records import OperationKind

# OpenLLMetry's provider instrumentations check this plain string key.
SUPPRESS_LANGUAGE_MODEL_KEY = "suppress_language_model_instrumentation"
# What a model call's activation adds to its context when util-genai is not loaded.
SUPPRESSION: dict[str, object] = {SUPPRESS_LANGUAGE_MODEL_KEY: True}

# The runs whose activation may carry suppression entries (checked before calling below).
SUPPRESSIBLE_KINDS = frozenset(
    {OperationKind.CHAT, OperationKind.TEXT_COMPLETION, OperationKind.EMBEDDINGS}
)

# The public module of util-genai that exports its context keys and data classes (1.x).
UTIL_GENAI_MODULE = "opentelemetry.util.genai.invocation"

_Keys = tuple[tuple[str, Callable[[], object]] | None, tuple[str, Callable[[], object]] | None]
_cache: tuple[ModuleType, _Keys] | None = None


def _factory(cls: type) -> Callable[[], object] | None:
    """A fast maker of fresh ``cls()`` objects, or ``None`` if ``cls()`` fails (then util-genai
    gets no entry, and this is found out once, not on every call). A dataclass with 50 fields
    costs ~2.7 µs to construct; a copy of a default instance's ``__dict__`` ~0.7 µs (its factory
    fields, the mutable ones, still get new values). Plain construction where that does not apply.
    """
    try:
        sample = cls()
    except Exception:
        return None
    fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
    defaults = dict(getattr(sample, "__dict__", {}))
    own_new = any("__new__" in vars(k) for k in cls.__mro__[:-1])
    if not fields or own_new or set(defaults) != {f.name for f in fields}:
        return cls  # not a plain dataclass (own __new__, slots, __post_init__ state): construct
    factories = tuple(
        (f.name, f.default_factory) for f in fields if f.default_factory is not dataclasses.MISSING
    )
    new: Callable[[type], object] = object.__new__  # dataclasses define no __new__ of their own

    def make() -> object:
        obj = new(cls)
        values = obj.__dict__
        values.update(defaults)
        for name, factory in factories:
            values[name] = factory()
        return obj

    return make


def _util_genai_keys(module: ModuleType) -> _Keys:
    """(inference key and data maker, embeddings key and data maker) of a loaded util-genai;
    ``None`` for what this version does not have (its API has changed in every beta)."""

    def pair(key_name: str, cls_name: str) -> tuple[str, Callable[[], object]] | None:
        key: Any = getattr(module, key_name, None)
        cls: Any = getattr(module, cls_name, None)
        if not isinstance(key, str) or not isinstance(cls, type):
            return None
        make = _factory(cls)
        return (key, make) if make is not None else None

    return (
        pair("CLIENT_INFERENCE_CONTEXT_KEY", "InferenceData"),
        pair("CLIENT_EMBEDDING_CONTEXT_KEY", "EmbeddingData"),
    )


def provider_suppression(kind: OperationKind) -> tuple[dict[str, object] | None, object | None]:
    """The entries to add to the activated context of a run of ``kind`` (or ``None``), and the
    util-genai data object among them (or ``None``): a suppressed util-genai instrumentation
    publishes what it saw of the call (usage, response) into it."""
    if kind not in SUPPRESSIBLE_KINDS:
        return None, None
    module = sys.modules.get(UTIL_GENAI_MODULE)
    if module is None:
        return SUPPRESSION, None
    inference, embeddings = _keys_of(module)
    entry = inference if kind.is_inference else embeddings
    if entry is None:
        return SUPPRESSION, None
    key, make = entry
    data = make()
    return {**SUPPRESSION, key: data}, data


def _keys_of(module: ModuleType) -> _Keys:
    global _cache
    cache = _cache
    if cache is None or cache[0] is not module:
        cache = _cache = (module, _util_genai_keys(module))
    return cache[1]
