"""The SDK's OTLP/HTTP span exporter with a faster encoder: :class:`FastOTLPSpanExporter`.

Only the encode step changes. The SDK's ``OTLPSpanExporter.export`` calls the module-level
``encode_spans(spans).SerializePartialToString()`` and then sends (retries, back-off, timeout,
compression, headers, size limit and self-metrics: whatever the installed version does). Each
export here runs that very function's code with ``encode_spans`` bound, in a copy of its module's
globals, to :func:`~._otlp_spans.encode_request` (byte-identical, about 5 µs per span of ours
instead of ~45: the export thread holds the GIL that much less). Nothing global is patched.

The SDK's encoder is used instead: for a batch the fast encoder does not handle (``None`` values,
mappings, lone surrogates, integers beyond int64, unknown types) or that makes it fail in any
way; for good when ``GENAI_TRACE_OTLP_ENCODER=sdk``, when the installed exporter's ``export``
does not call ``encode_spans``, or when a probe batch (every field, every value type) does not
encode byte-identically in this process (a future SDK or proto change).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import types
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http import trace_exporter as _sdk_module
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from genai_trace_core._safe import log_once, warn_once
from genai_trace_core.export._otlp_spans import encode_request

__all__ = ["ENV_ENCODER", "FastOTLPSpanExporter", "fast_encoder_works"]

logger = logging.getLogger("genai_trace")

ENV_ENCODER = "GENAI_TRACE_OTLP_ENCODER"  # "sdk": the SDK's own encoder
_ENCODE = "encode_spans"
# The GIL is held for at most CHUNK_SPANS spans of encoding at a time (~0.3 ms for ours).
CHUNK_SPANS = 64
YIELD_S = 0.0001
_SDK_EXPORT: Callable[..., SpanExportResult] = _sdk_module.OTLPSpanExporter.export


class _Encoded:
    """Stands for the request message: the SDK's ``export`` only serialises it."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def SerializePartialToString(self, **_: Any) -> bytes:  # protobuf's names
        return self._data

    def SerializeToString(self, **_: Any) -> bytes:
        return self._data

    def ByteSize(self) -> int:
        return len(self._data)


def _let_others_run() -> None:
    """Release the GIL long enough for a thread waiting on it to take it (``sleep(0)`` may
    take it back first); that thread then runs up to the switch interval (5 ms)."""
    time.sleep(YIELD_S)


def encode_or_sdk(
    spans: Sequence[ReadableSpan],
    sdk_encode: Callable[[Any], Any],
    pause: Callable[[], object] | None = None,
) -> Any:
    """The fast encoding of ``spans`` (``pause()`` between chunks of :data:`CHUNK_SPANS`); the
    SDK's for a batch it does not handle."""
    try:
        return _Encoded(encode_request(spans, pause, CHUNK_SPANS))
    except Exception as exc:
        log_once(
            "otlp-encoder." + type(exc).__name__,
            "genai-trace: this span batch is encoded by the SDK's OTLP encoder",
        )
        return sdk_encode(spans)


def _export_with_fast_encoder(exporter: Any, spans: Sequence[ReadableSpan]) -> SpanExportResult:
    """The SDK's ``export``, its ``encode_spans`` replaced (globals copied at each call, so a
    later change to the SDK module, e.g. a test's monkeypatch, is seen)."""
    module_globals = _SDK_EXPORT.__globals__
    sdk_encode = module_globals[_ENCODE]
    env = dict(module_globals)
    env[_ENCODE] = lambda batch: encode_or_sdk(batch, sdk_encode, _let_others_run)
    export = types.FunctionType(
        _SDK_EXPORT.__code__,
        env,
        _SDK_EXPORT.__name__,
        _SDK_EXPORT.__defaults__,
        _SDK_EXPORT.__closure__,
    )
    export.__kwdefaults__ = _SDK_EXPORT.__kwdefaults__
    result: SpanExportResult = export(exporter, spans)
    return result


class FastOTLPSpanExporter(_sdk_module.OTLPSpanExporter):
    """The SDK's ``OTLPSpanExporter`` (same arguments, environment variables and sending) whose
    requests are encoded by genai-trace's byte-identical encoder when :func:`fast_encoder_works`
    (else exactly the SDK's exporter)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fast_encoder = fast_encoder_works()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.fast_encoder:
            return _export_with_fast_encoder(self, spans)
        result: SpanExportResult = super().export(spans)
        return result


class _Check:
    lock = threading.Lock()
    result: bool | None = None


def fast_encoder_works() -> bool:
    """The fast encoder is on (``GENAI_TRACE_OTLP_ENCODER`` is not ``sdk``), the installed
    exporter calls ``encode_spans``, and a probe batch encodes as the SDK encodes it (checked
    once per process)."""
    choice = os.environ.get(ENV_ENCODER, "").strip().lower()
    if choice == "sdk":
        return False
    if choice not in ("", "fast"):
        warn_once(
            f"settings.{ENV_ENCODER}",
            "genai-trace: %s=%r is not valid (expected fast or sdk); using fast",
            ENV_ENCODER,
            os.environ.get(ENV_ENCODER),
        )
    with _Check.lock:
        if _Check.result is None:
            _Check.result = _probe()
        return _Check.result


def _probe() -> bool:
    from genai_trace_core.export._otlp_probe import probe_spans

    if _ENCODE not in _SDK_EXPORT.__code__.co_names:
        logger.debug("genai-trace: this OTLPSpanExporter does not call encode_spans")
        return False
    try:
        spans = probe_spans()
        sdk_encode = _SDK_EXPORT.__globals__[_ENCODE]
        same = bool(encode_request(spans) == sdk_encode(spans).SerializePartialToString())
    except Exception:
        log_once("otlp-encoder.probe", "genai-trace: the OTLP encoder probe failed")
        return False
    if not same:
        logger.debug("genai-trace: the fast OTLP encoder differs from the SDK's here; not used")
    return same
