"""The hot path: :class:`Telemetry` starts, streams and ends spans keyed by run id, with metrics and
log events. OpenTelemetry API only (never the SDK); usage and content are computed once at end.
"""

from __future__ import annotations

from genai_trace_core.lifecycle._context import CAN_UNDO_IN_TASK
from genai_trace_core.lifecycle._detached import detached_context
from genai_trace_core.lifecycle._executor import ContextThreadPoolExecutor, with_current_context
from genai_trace_core.lifecycle._instrumentation import instrumentation_telemetry
from genai_trace_core.lifecycle._task_ends import TaskEnds
from genai_trace_core.lifecycle._telemetry import Telemetry
from genai_trace_core.lifecycle._tracers import register_tracer_wrapper

__all__ = [
    "CAN_UNDO_IN_TASK",
    "ContextThreadPoolExecutor",
    "TaskEnds",
    "Telemetry",
    "detached_context",
    "instrumentation_telemetry",
    "register_tracer_wrapper",
    "with_current_context",
]
