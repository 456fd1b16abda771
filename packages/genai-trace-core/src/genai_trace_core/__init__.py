"""genai-trace-core: the shared behaviour behind every genai-trace integration.

Integrations translate framework callbacks into :class:`Operation`/:class:`Outcome` records and
call :class:`Telemetry`; core turns them into OpenTelemetry GenAI spans, metrics and events, with
usage normalisation, token estimates, cost, content capture, truncation and redaction.
"""

from __future__ import annotations

from genai_trace_core import semconv
from genai_trace_core._attribution import Attribution, attribution, current_attribution
from genai_trace_core._budget import Budget, BudgetExceeded, BudgetTracker
from genai_trace_core._feedback import TraceIds, record_feedback, trace_ids
from genai_trace_core._safe import safe
from genai_trace_core._settings import (
    CaptureMode,
    Settings,
    get_settings,
    parse_capture_mode,
    set_settings,
    settings_from_env,
)
from genai_trace_core.content import (
    ContentBudget,
    build_content_attributes,
    build_outcome_content,
    builtin_redact,
    capture_enabled,
    is_secret_key,
    messages_as_dicts,
    redact,
    scrub_secrets,
    serialize_documents,
    serialize_messages,
    serialize_parts,
    serialize_tool_definitions,
    serialize_value,
)
from genai_trace_core.export import Providers, configure
from genai_trace_core.lifecycle import ContextThreadPoolExecutor, Telemetry, with_current_context
from genai_trace_core.records import (
    BlobPart,
    Cost,
    Document,
    Message,
    Operation,
    OperationKind,
    Outcome,
    Part,
    ReasoningPart,
    RequestParams,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    ToolDefinition,
    UriPart,
    Usage,
)
from genai_trace_core.usage import (
    PRICES_FILE_ENV,
    clear_prices,
    compute_cost,
    count_tokens,
    encoding_for_model,
    estimate_usage,
    load_prices,
    merge_usage,
    normalize_usage,
    preload_prices,
    resolve_provider,
    set_price,
)
from genai_trace_core.version import __version__
from genai_trace_core.view import cost_summary

__all__ = [
    "Attribution",
    "BlobPart",
    "Budget",
    "BudgetExceeded",
    "BudgetTracker",
    "CaptureMode",
    "ContentBudget",
    "ContextThreadPoolExecutor",
    "Cost",
    "Document",
    "Message",
    "Operation",
    "OperationKind",
    "Outcome",
    "PRICES_FILE_ENV",
    "Part",
    "Providers",
    "ReasoningPart",
    "RequestParams",
    "Settings",
    "Telemetry",
    "TextPart",
    "ToolCallPart",
    "ToolCallResponsePart",
    "ToolDefinition",
    "TraceIds",
    "UriPart",
    "Usage",
    "__version__",
    "attribution",
    "build_content_attributes",
    "build_outcome_content",
    "builtin_redact",
    "capture_enabled",
    "clear_prices",
    "compute_cost",
    "configure",
    "cost_summary",
    "count_tokens",
    "current_attribution",
    "encoding_for_model",
    "estimate_usage",
    "get_settings",
    "is_secret_key",
    "load_prices",
    "merge_usage",
    "messages_as_dicts",
    "normalize_usage",
    "parse_capture_mode",
    "preload_prices",
    "record_feedback",
    "redact",
    "resolve_provider",
    "safe",
    "scrub_secrets",
    "semconv",
    "serialize_documents",
    "serialize_messages",
    "serialize_parts",
    "serialize_tool_definitions",
    "serialize_value",
    "set_price",
    "set_settings",
    "settings_from_env",
    "trace_ids",
    "with_current_context",
]
