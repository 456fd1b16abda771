"""Who and what an operation is for: user, conversation, tenant, feature, allow-listed metadata.

Set from an integration (``Operation`` fields, usually framework metadata) or around any block of
user code with :func:`attribution`; inherited by child runs so cost can be split per user/tenant.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from genai_trace_core import semconv
from genai_trace_core._safe import warn_once

if TYPE_CHECKING:
    from genai_trace_core.records import Operation


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who and what a run is for; a child run inherits what it does not set itself."""

    user_id: str | None = None
    conversation_id: str | None = None
    tenant_id: str | None = None
    feature: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    outer: Attribution | None = field(default=None, compare=False, repr=False)
    """The block this one was opened inside (``attribution()`` only), else None."""

    def opened_inside(self, block: Attribution | None) -> bool:
        """Whether this ``attribution()`` block was opened inside ``block`` (at any depth)."""
        outer = self.outer
        for _ in range(64):  # bounded: blocks nest as deep as the code that opens them
            if outer is None or block is None:
                return False
            if outer is block:
                return True
            outer = outer.outer
        return False

    def merged_over(self, parent: Attribution | None) -> Attribution:
        if parent is None:
            return self
        return Attribution(
            user_id=self.user_id or parent.user_id,
            conversation_id=self.conversation_id or parent.conversation_id,
            tenant_id=self.tenant_id or parent.tenant_id,
            feature=self.feature or parent.feature,
            metadata=_merged(parent.metadata, self.metadata),
        )

    def span_attributes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.user_id:
            out[semconv.USER_ID] = self.user_id
        if self.conversation_id:
            out[semconv.GEN_AI_CONVERSATION_ID] = self.conversation_id
        if self.tenant_id:
            out[semconv.TENANT_ID] = self.tenant_id
        if self.feature:
            out[semconv.FEATURE] = self.feature
        for k, v in self.metadata:
            out[semconv.METADATA_PREFIX + k] = v
        return out

    def metric_attributes(self, keys: tuple[str, ...]) -> dict[str, Any]:
        """Only the configured low-cardinality keys (attribute names) go on metrics."""
        if not keys:
            return {}
        spans = self.span_attributes()
        return {k: spans[k] for k in keys if k in spans}


EMPTY = Attribution()


def _merged(
    outer: tuple[tuple[str, str], ...], inner: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """Metadata of nested blocks and runs: every key of both, the inner value winning."""
    if not outer or not inner:
        return inner or outer
    merged = dict(inner)  # each side is bounded; together they keep MAX_METADATA_KEYS
    for key, value in outer:
        if len(merged) >= MAX_METADATA_KEYS:
            break
        merged.setdefault(key, value)
    return tuple(merged.items())


_current: contextvars.ContextVar[Attribution | None] = contextvars.ContextVar(
    "genai_trace_attribution", default=None
)


def current_attribution() -> Attribution | None:
    return _current.get()


@contextmanager
def attribution(
    *,
    user_id: str | None = None,
    conversation_id: str | None = None,
    tenant_id: str | None = None,
    feature: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Iterator[Attribution]:
    """Attribute every GenAI operation started inside the block (nested blocks merge)."""
    outer = _current.get()
    new = Attribution(
        user_id=user_id,
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        feature=feature,
        metadata=_block_metadata(metadata),
    ).merged_over(outer)
    if outer is not None:
        new = replace(new, outer=outer)
    token = _current.set(new)
    try:
        yield new
    finally:
        try:
            _current.reset(token)
        except ValueError:  # generator closed in another context: restore by value
            _current.set(None)


MAX_METADATA_CHARS = 256
# A block's metadata keys: each span carries them beside its own ~25 attributes, within the SDK's
# limit of 128 per span (past it, the SDK evicts the span's first attributes and logs a warning
# for each); a key is cut like a value.
MAX_METADATA_KEYS = 32


def _block_metadata(metadata: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """``attribution(metadata=...)`` as attribute pairs: at most :data:`MAX_METADATA_KEYS` keys
    (the first ones; one warning when more are given), keys and values at most
    :data:`MAX_METADATA_CHARS` characters, ``None`` values left out."""
    out: dict[str, str] = {}
    for key, value in (metadata or {}).items():
        if len(out) >= MAX_METADATA_KEYS:
            warn_once(
                "attribution.metadata_keys",
                "genai-trace: attribution() metadata has more than %d keys; the rest are ignored",
                MAX_METADATA_KEYS,
            )
            break
        text = metadata_text(value)
        if text is not None:
            out[str(key)[:MAX_METADATA_CHARS]] = text
    return tuple(out.items())


def metadata_text(value: Any) -> str | None:
    """An allow-listed metadata value as an attribute: ``None`` stays absent, strings and numbers
    as written, anything else as JSON (``{"a": 1}``, not Python's ``{'a': 1}``), at most
    :data:`MAX_METADATA_CHARS` characters."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, (bool, int, float)):
        text = str(value)
    else:
        try:
            text = json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
        except Exception:  # mixed key types, a cycle, a value whose ``__str__`` raises
            text = f"<{type(value).__name__}>"
    return text[:MAX_METADATA_CHARS]


def from_operation_fields(
    *,
    user_id: str | None,
    conversation_id: str | None,
    tenant_id: str | None,
    feature: str | None,
    metadata: Mapping[str, Any] | None,
    allowed_keys: tuple[str, ...],
) -> Attribution | None:
    meta: tuple[tuple[str, str], ...] = ()
    if metadata and allowed_keys:
        found = ((k, metadata_text(metadata.get(k))) for k in allowed_keys)
        meta = tuple((k, text) for k, text in found if text is not None)
    if not (user_id or conversation_id or tenant_id or feature or meta):
        return None
    return Attribution(
        user_id=user_id,
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        feature=feature,
        metadata=meta,
    )


def run_attribution(
    op: Operation, inherited: Attribution | None, allowed_keys: tuple[str, ...]
) -> Attribution | None:
    """A new run's attribution: its operation's own fields merged over what it inherits
    (``inherited``: its parent run's, or the enclosing :func:`attribution` block's when it has no
    parent run). No merge when it has none."""
    if not (
        op.user_id
        or op.conversation_id
        or op.tenant_id
        or op.feature
        or (op.metadata and allowed_keys)
    ):
        return inherited
    own = from_operation_fields(
        user_id=op.user_id,
        conversation_id=op.conversation_id,
        tenant_id=op.tenant_id,
        feature=op.feature,
        metadata=op.metadata,
        allowed_keys=allowed_keys,
    )
    return inherited if own is None else own.merged_over(inherited)
