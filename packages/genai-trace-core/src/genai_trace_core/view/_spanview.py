"""One read-only view of a finished span, fed by SDK spans or by JSONL dicts.

The terminal renderer and the ``genai-trace view`` command read only :class:`SpanView`, so there is
one rendering path whether spans come live from the SDK or back from a JSONL file. The JSONL file
is written from :meth:`SpanView.to_dict`, so the two shapes cannot drift apart.

No OpenTelemetry SDK import at run time: SDK spans are read by attribute access only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genai_trace_core import semconv

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["SpanView", "trace_id_hex", "span_id_hex"]


def trace_id_hex(value: int) -> str:
    return format(value, "032x")


def span_id_hex(value: int) -> str:
    return format(value, "016x")


def _plain(value: Any) -> Any:
    """Attribute values as JSON-ready builtins (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _plain_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    if not attributes:
        return {}
    return {str(k): _plain(v) for k, v in attributes.items()}


@dataclass(frozen=True, slots=True)
class SpanEventView:
    """An event of a finished span: its name, time (Unix nanoseconds) and attributes."""

    name: str
    time_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpanView:
    """A finished span: ids are lower-case hex strings, times are Unix nanoseconds."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str = "INTERNAL"
    start_ns: int = 0
    end_ns: int = 0
    status: str = "UNSET"  # UNSET | OK | ERROR
    status_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: tuple[SpanEventView, ...] = ()
    service_name: str | None = None

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @classmethod
    def from_sdk(cls, span: ReadableSpan) -> SpanView:
        ctx = span.context
        parent = span.parent
        resource = span.resource.attributes if span.resource is not None else {}
        service = resource.get(semconv.SERVICE_NAME)
        return cls(
            trace_id=trace_id_hex(ctx.trace_id) if ctx is not None else "0" * 32,
            span_id=span_id_hex(ctx.span_id) if ctx is not None else "0" * 16,
            parent_id=span_id_hex(parent.span_id) if parent is not None else None,
            name=span.name,
            kind=span.kind.name,
            start_ns=span.start_time or 0,
            end_ns=span.end_time or 0,
            status=span.status.status_code.name,
            status_message=span.status.description,
            attributes=_plain_attributes(span.attributes),
            events=tuple(
                SpanEventView(e.name, e.timestamp, _plain_attributes(e.attributes))
                for e in span.events
            ),
            service_name=str(service) if service is not None else None,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpanView:
        """Inverse of :meth:`to_dict`; tolerant of missing optional keys."""
        status = data.get("status") or {}
        raw_events: Sequence[Mapping[str, Any]] = data.get("events") or ()
        parent = data.get("parent_id")
        service = (data.get("resource") or {}).get(semconv.SERVICE_NAME)
        return cls(
            trace_id=str(data["trace_id"]),
            span_id=str(data["span_id"]),
            parent_id=str(parent) if parent else None,
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "INTERNAL")),
            start_ns=int(data.get("start_time_unix_nano", 0)),
            end_ns=int(data.get("end_time_unix_nano", 0)),
            status=str(status.get("code", "UNSET")),
            status_message=status.get("message"),
            attributes=dict(data.get("attributes") or {}),
            events=tuple(
                SpanEventView(
                    str(e.get("name", "")),
                    int(e.get("time_unix_nano", 0)),
                    dict(e.get("attributes") or {}),
                )
                for e in raw_events
            ),
            service_name=str(service) if service is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record: one JSON object per span."""
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "kind": self.kind,
            "start_time_unix_nano": self.start_ns,
            "end_time_unix_nano": self.end_ns,
            "status": {"code": self.status, "message": self.status_message},
            "attributes": self.attributes,
            "events": [
                {"name": e.name, "time_unix_nano": e.time_ns, "attributes": e.attributes}
                for e in self.events
            ],
            "resource": {semconv.SERVICE_NAME: self.service_name},
        }
