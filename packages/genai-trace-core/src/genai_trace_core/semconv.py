"""Every OpenTelemetry name genai-trace emits, in one place.

GenAI names follow the newest semantic-conventions-genai (main, late 2026); the released v1.41
metric names are kept for the ``GENAI_TRACE_METRICS_NAMING=v1.41`` switch. Names under
``genai_trace.*`` are ours, for what the conventions do not define (cost, framework run details,
usage provenance). No other module in the repository writes these strings: integrations import them.
"""

from __future__ import annotations

from typing import Final

# --- gen_ai.operation.name values -------------------------------------------------------------
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_GENERATE_CONTENT: Final = "generate_content"
OP_EMBEDDINGS: Final = "embeddings"
OP_RETRIEVAL: Final = "retrieval"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_CREATE_AGENT: Final = "create_agent"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
OP_HANDLE_CONVERSATION_TURN: Final = "handle_conversation_turn"
OP_PLAN: Final = "plan"

# --- gen_ai.provider.name well-known values ----------------------------------------------------
PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_AZURE_AI_INFERENCE: Final = "azure.ai.inference"
PROVIDER_AZURE_AI_OPENAI: Final = "azure.ai.openai"
PROVIDER_COHERE: Final = "cohere"
PROVIDER_DEEPSEEK: Final = "deepseek"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_GCP_GEN_AI: Final = "gcp.gen_ai"
PROVIDER_GROQ: Final = "groq"
PROVIDER_IBM_WATSONX_AI: Final = "ibm.watsonx.ai"
PROVIDER_MISTRAL_AI: Final = "mistral_ai"
PROVIDER_MOONSHOT_AI: Final = "moonshot_ai"
PROVIDER_PERPLEXITY: Final = "perplexity"
PROVIDER_X_AI: Final = "x_ai"
PROVIDER_OLLAMA: Final = "ollama"
# Custom values (not in the conventions), spelled like the genai-prices provider ids.
PROVIDER_FIREWORKS: Final = "fireworks"
PROVIDER_TOGETHER: Final = "together"

# --- span attributes: GenAI ---------------------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_PROMPT_NAME: Final = "gen_ai.prompt.name"
GEN_AI_PROMPT_VERSION: Final = "gen_ai.prompt.version"
GEN_AI_PROMPT_VARIABLE_PREFIX: Final = "gen_ai.prompt.variable."

GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"

GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"

GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
# Per-modality usage: gen_ai.usage.{text,image,audio}.{input_tokens,output_tokens,...}
GEN_AI_USAGE_MODALITY_TEMPLATE: Final = "gen_ai.usage.{modality}.{kind}"

GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"

GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"

GEN_AI_DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
GEN_AI_RETRIEVAL_TOP_K: Final = "gen_ai.retrieval.top_k"
GEN_AI_RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"
GEN_AI_RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"

GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"

GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_DESCRIPTION: Final = "gen_ai.agent.description"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_WORKFLOW_NAME: Final = "gen_ai.workflow.name"
GEN_AI_INVOCATION_IS_NESTED: Final = "gen_ai.invocation.is_nested"

GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_TOKEN_MODALITY: Final = "gen_ai.token.modality"

GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

# --- general attributes
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
USER_ID: Final = "user.id"
SESSION_ID: Final = "session.id"
SERVICE_NAME: Final = "service.name"  # resource attribute
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
EVENT_EXCEPTION: Final = "exception"  # the span event (attributes: EXCEPTION_*)

# error.type values we produce ourselves (documented in the README).
ERROR_TYPE_OTHER: Final = "_OTHER"
ERROR_TYPE_ABANDONED: Final = "abandoned"
ERROR_TYPE_CANCELLED: Final = "cancelled"
ERROR_TYPE_TOOL_ERROR: Final = "tool_error"
# gen_ai.tool.name on metrics for a call to a tool the agent does not have (Outcome.tool_not_found)
TOOL_NAME_NOT_FOUND: Final = "_not_found"

# --- ours: genai_trace.*
COST_USD: Final = "genai_trace.cost.usd"
COST_INPUT_USD: Final = "genai_trace.cost.input_usd"
COST_OUTPUT_USD: Final = "genai_trace.cost.output_usd"
COST_CACHE_READ_USD: Final = "genai_trace.cost.cache_read_usd"
COST_CACHE_WRITE_USD: Final = "genai_trace.cost.cache_write_usd"
COST_REASONING_USD: Final = "genai_trace.cost.reasoning_usd"
COST_SOURCE: Final = "genai_trace.cost.source"  # "genai-prices" | "override"
USAGE_SOURCE: Final = "genai_trace.usage.source"  # "provider" | "estimated"
USAGE_SOURCE_PROVIDER: Final = "provider"
USAGE_SOURCE_ESTIMATED: Final = "estimated"
USAGE_ESTIMATOR: Final = "genai_trace.usage.estimator"  # encoding name or "heuristic"
# An offline estimate (ceil(chars/4)), where GENAI_TRACE_ESTIMATE_USAGE is off: the conventions
# allow offline counts under gen_ai.usage.* only when the user turns counting on.
USAGE_ESTIMATED_INPUT_TOKENS: Final = "genai_trace.usage.estimated.input_tokens"
USAGE_ESTIMATED_OUTPUT_TOKENS: Final = "genai_trace.usage.estimated.output_tokens"
EMBEDDINGS_INPUT_COUNT: Final = "genai_trace.embeddings.input_count"

FRAMEWORK: Final = "genai_trace.framework"  # "langchain" | "llama_index"
RUN_ID: Final = "genai_trace.run.id"
RUN_TYPE: Final = "genai_trace.run.type"
RUN_NAME: Final = "genai_trace.run.name"
RUN_TAGS: Final = "genai_trace.run.tags"
METADATA_PREFIX: Final = "genai_trace.metadata."
TENANT_ID: Final = "genai_trace.tenant.id"
FEATURE: Final = "genai_trace.feature"
LANGGRAPH_NODE: Final = "genai_trace.langgraph.node"
LANGGRAPH_STEP: Final = "genai_trace.langgraph.step"
WORKFLOW_STEP: Final = "genai_trace.workflow.step"
WORKFLOW_STEP_INPUT_EVENT: Final = "genai_trace.workflow.step.input_event"  # event class name
QUERY_TEXT: Final = "genai_trace.query.text"
RERANK_MODEL: Final = "genai_trace.rerank.model"
RERANK_TOP_N: Final = "genai_trace.rerank.top_n"
RERANK_INPUT_COUNT: Final = "genai_trace.rerank.input_count"
DOCUMENT_COUNT: Final = "genai_trace.documents.count"
# bool, on a step span that returned a stream read after it ended (its model call comes later)
STREAM_DEFERRED: Final = "genai_trace.stream.deferred"
CONTENT_TRUNCATED: Final = "genai_trace.content.truncated"
CONTENT_DROPPED: Final = "genai_trace.content.dropped"  # int: messages/parts/documents left out
BUDGET_NAME: Final = "genai_trace.budget.name"  # attributes of EVENT_BUDGET_EXCEEDED
BUDGET_SCOPE: Final = "genai_trace.budget.scope"  # "total" | "user" | "tenant" | "feature"
BUDGET_KEY: Final = "genai_trace.budget.key"  # the user/tenant/feature whose spend crossed it
BUDGET_WINDOW: Final = "genai_trace.budget.window"  # "hour" | "day"
BUDGET_LIMIT_USD: Final = "genai_trace.budget.limit_usd"
BUDGET_SPENT_USD: Final = "genai_trace.budget.spent_usd"

# --- span events ---------------------------------------------------------------------------------
EVENT_RETRY: Final = "genai_trace.retry"
EVENT_CUSTOM: Final = "genai_trace.custom_event"
EVENT_CUSTOM_NAME: Final = "genai_trace.custom_event.name"
EVENT_RETRY_ATTEMPT: Final = "genai_trace.retry.attempt"

# --- log events ----------------------------------------------------------------------------------
EVENT_INFERENCE_DETAILS: Final = "gen_ai.client.inference.operation.details"
EVENT_OPERATION_EXCEPTION: Final = "gen_ai.client.operation.exception"
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
EVENT_BUDGET_EXCEEDED: Final = "genai_trace.budget.exceeded"

# --- metrics: newest names (semantic-conventions-genai main)
METRIC_INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
METRIC_INFERENCE_TTFC: Final = "gen_ai.client.inference.time_to_first_chunk"
METRIC_INFERENCE_TPOC: Final = "gen_ai.client.inference.time_per_output_chunk"
METRIC_USAGE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.input_tokens"
METRIC_USAGE_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.output_tokens"
METRIC_USAGE_CACHE_READ_TOKENS: Final = "gen_ai.client.inference.usage.cache_read.input_tokens"
METRIC_USAGE_CACHE_WRITE_TOKENS: Final = "gen_ai.client.inference.usage.cache_write.input_tokens"
METRIC_USAGE_REASONING_TOKENS: Final = "gen_ai.client.inference.usage.reasoning.output_tokens"
METRIC_OPERATION_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
METRIC_OPERATION_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"
METRIC_EMBEDDINGS_DURATION: Final = "gen_ai.client.embeddings.duration"
METRIC_EMBEDDINGS_INPUT_TOKENS: Final = "gen_ai.client.embeddings.operation.input_tokens"
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_INVOCATION_DURATION: Final = "gen_ai.invocation.duration"
METRIC_EXECUTE_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"
METRIC_AGENT_INFERENCE_CALLS: Final = "gen_ai.invoke_agent.inference_calls"
METRIC_AGENT_TOOL_CALLS: Final = "gen_ai.invoke_agent.tool_calls"

# --- metrics: released v1.41 names (GENAI_TRACE_METRICS_NAMING=v1.41)
METRIC_V141_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_V141_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_V141_TTFC: Final = "gen_ai.client.operation.time_to_first_chunk"
METRIC_V141_TPOC: Final = "gen_ai.client.operation.time_per_output_chunk"

# --- metrics: ours --------------------------------------------------------------------------------
METRIC_COST: Final = "genai_trace.client.cost"  # Counter of USD, unit "{USD}" (keeps the
# Prometheus name genai_trace_client_cost_total; a bare "USD" unit would append _USD)
METRIC_EVALUATION_SCORE: Final = "genai_trace.evaluation.score"  # Histogram
METRIC_EVALUATION_COUNT: Final = "genai_trace.evaluation.count"  # Counter, by label
METRIC_SPANS_DROPPED: Final = "genai_trace.spans.abandoned"  # Counter of spans ended by the sweeper
METRIC_EXPORT_SPANS_DROPPED: Final = "genai_trace.export.spans_dropped"  # Counter, by error.type
EXPORT_DROP_QUEUE_FULL: Final = "queue_full"  # error.type values of the counter above
EXPORT_DROP_FAILED: Final = "export_failed"
EXPORT_DROP_SHUTDOWN: Final = "already_shutdown"

# Bucket boundaries from the conventions.
# fmt: off
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)
INVOCATION_DURATION_BUCKETS: Final = (
    0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
)
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)
CALL_COUNT_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128)
# fmt: on

# --- environment variables ------------------------------------------------------------------------
ENV_CAPTURE_MESSAGE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
ENV_EMIT_EVENT: Final = "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT"
ENV_ESTIMATE_USAGE: Final = "GENAI_TRACE_ESTIMATE_USAGE"
