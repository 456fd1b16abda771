"""genai-trace-core: the shared behaviour behind every genai-trace integration.

Two audiences, one facade:

* **Integrations** translate framework callbacks into :class:`Operation`/:class:`Outcome` records
  and call :class:`Telemetry`; core turns them into OpenTelemetry GenAI spans, metrics and events
  (usage normalisation, token estimates, cost, content capture, truncation and redaction).
* **Applications** call :func:`configure` once, attribute work to users and tenants with
  :func:`attribution`, record feedback, set budgets and prices, and summarise cost.

Everything else lives in the wings (``usage``, ``content``, ``lifecycle``, ``view``, ``export``,
``cli``, ``testing``), each behind its own ``__init__``.
"""

from __future__ import annotations

from genai_trace_core import semconv
from genai_trace_core._attribution import Attribution, attribution, current_attribution
from genai_trace_core._budget import Budget, BudgetExceeded, BudgetTracker
from genai_trace_core._feedback import TraceIds, record_feedback, trace_ids
from genai_trace_core._safe import safe
from genai_trace_core._settings import CaptureMode, Settings, get_settings, set_settings
from genai_trace_core.content import bounded_description, inline_size
from genai_trace_core.export import Providers, configure, fast_tracer
from genai_trace_core.lifecycle import (
    ContextThreadPoolExecutor,
    TaskEnds,
    Telemetry,
    detached_context,
    instrumentation_telemetry,
    register_tracer_wrapper,
    with_current_context,
)
from genai_trace_core.records import (
    BlobPart,
    Cost,
    Document,
    FilePart,
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
    anthropic_default_base_url,
    clear_prices,
    client_attributes,
    client_base_url,
    compute_cost,
    count_tokens,
    get_field,
    load_prices,
    merge_usage,
    normalize_usage,
    openai_default_base_url,
    preload_prices,
    resolve_provider,
    responses_api_response,
    responses_finish_reason,
    server_from_url,
    set_price,
)
from genai_trace_core.version import __version__
from genai_trace_core.view import cost_summary

# lifecycle speaks the OpenTelemetry API only; export knows the SDK: its fast span path is offered
# every tracer lifecycle obtains (``GENAI_TRACE_SDK_SPANS=1`` keeps SDK spans).
register_tracer_wrapper(fast_tracer)

__all__ = [
    # the integration contract
    "BlobPart",
    "CaptureMode",
    "Cost",
    "Document",
    "FilePart",
    "Message",
    "Operation",
    "OperationKind",
    "Outcome",
    "Part",
    "ReasoningPart",
    "RequestParams",
    "Settings",
    "TaskEnds",
    "Telemetry",
    "TextPart",
    "ToolCallPart",
    "ToolCallResponsePart",
    "ToolDefinition",
    "UriPart",
    "Usage",
    "bounded_description",
    "get_settings",
    "inline_size",
    "instrumentation_telemetry",
    "normalize_usage",
    "merge_usage",
    "resolve_provider",
    "responses_api_response",
    "responses_finish_reason",
    "server_from_url",
    "client_attributes",
    "client_base_url",
    "anthropic_default_base_url",
    "openai_default_base_url",
    "safe",
    "semconv",
    # the application API
    "Attribution",
    "Budget",
    "BudgetExceeded",
    "BudgetTracker",
    "ContextThreadPoolExecutor",
    "PRICES_FILE_ENV",
    "Providers",
    "TraceIds",
    "__version__",
    "attribution",
    "clear_prices",
    "compute_cost",
    "configure",
    "cost_summary",
    "count_tokens",
    "get_field",
    "current_attribution",
    "load_prices",
    "preload_prices",
    "record_feedback",
    "set_price",
    "set_settings",
    "trace_ids",
    "with_current_context",
    "detached_context",
]
