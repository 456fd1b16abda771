"""Chat and completion callbacks -> core ``Operation``/``Outcome``: the model, its request
parameters, usage, response ids and finish reasons. Pure functions, no state; content goes to
core as lazy callables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any

from langchain_core.language_models import BaseChatModel, BaseLLM

from genai_trace_core import (
    Operation,
    OperationKind,
    Outcome,
    RequestParams,
    anthropic_default_base_url,
    openai_default_base_url,
    resolve_provider,
    responses_finish_reason,
    semconv,
    server_from_url,
)
from genai_trace_langchain import _messages
from genai_trace_langchain._mapping import (
    FRAMEWORK,
    RUN_ID_PREFIXES,
    as_float,
    as_int,
    as_str,
    with_attribution,
)

# Request parameters copied as they are: (invocation param, RequestParams field, conversion).
_PLAIN_PARAMS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("top_p", "top_p", as_float),
    ("top_k", "top_k", as_int),
    ("frequency_penalty", "frequency_penalty", as_float),
    ("presence_penalty", "presence_penalty", as_float),
    ("seed", "seed", as_int),
    ("n", "choice_count", as_int),
)


def _model_of(params: Mapping[str, Any], metadata: Mapping[str, Any]) -> str | None:
    for key in ("model", "model_name", "model_id", "deployment_name", "azure_deployment"):
        found = as_str(params.get(key))
        if found:
            return found
    return as_str(metadata.get("ls_model_name"))


def _request(params: Mapping[str, Any], metadata: Mapping[str, Any]) -> RequestParams:
    # Only the fields a call sets are converted; the rest keep RequestParams' defaults.
    get = params.get
    req = RequestParams()
    stop = get("stop") or metadata.get("ls_stop")
    if isinstance(stop, str):
        stop = [stop]
    if isinstance(stop, (list, tuple)) and stop:
        req.stop_sequences = [str(s) for s in stop]
    max_tokens = get("max_tokens")
    if max_tokens is None:
        max_tokens = get("max_completion_tokens", metadata.get("ls_max_tokens"))
    if max_tokens is not None:
        req.max_tokens = as_int(max_tokens)
    temperature = get("temperature", metadata.get("ls_temperature"))
    if temperature is not None:
        req.temperature = as_float(temperature)
    for key, field, convert in _PLAIN_PARAMS:
        value = get(key)
        if value is not None:
            setattr(req, field, convert(value))
    if get("stream") or get("streaming"):
        req.stream = True
    fmt = get("response_format")
    # A json_* response format, or a pydantic/TypedDict schema.
    if fmt is not None and (
        not isinstance(fmt, dict) or str(fmt.get("type", "")).startswith("json")
    ):
        req.output_type = "json"
    reasoning = get("reasoning_effort")
    if reasoning is None and isinstance(get("reasoning"), dict):
        reasoning = params["reasoning"].get("effort")
    if reasoning is not None:
        req.reasoning_level = as_str(reasoning)
    return req


# LangChain's ``stream``/``astream`` of a model: their invocation params carry the model's own
# ``streaming`` field, not that this call streams, so a stream that fails before its first chunk
# (which marks the span) would lack ``gen_ai.request.stream``. The start callback runs a few
# frames below them (in the caller's task: the handler runs inline), unless the model does not
# stream (``disable_streaming``): ``stream`` then calls ``invoke``, whose ``generate`` starts it.
# By ``id``: a code object's hash is computed from its whole contents at every look-up (~0.5 µs),
# an id's is free; these methods' code objects live as long as LangChain's classes.
_STREAMS: frozenset[int] = frozenset(
    id(m.__code__)
    for m in (BaseChatModel.stream, BaseChatModel.astream, BaseLLM.stream, BaseLLM.astream)
)
_GENERATES: frozenset[int] = frozenset(
    id(m.__code__)
    for m in (BaseChatModel.generate, BaseChatModel.agenerate, BaseLLM.generate, BaseLLM.agenerate)
)
_STREAM_DEPTH = 12


def _started_by_stream() -> bool:
    frame: FrameType | None = sys._getframe(2)
    for _ in range(_STREAM_DEPTH):
        if frame is None:
            return False
        code = id(frame.f_code)
        if code in _GENERATES:
            return False
        if code in _STREAMS:
            return True
        frame = frame.f_back
    return False


_BASE_URL_KEYS = (
    "openai_api_base",
    "anthropic_api_url",
    "base_url",
    "api_base",
    "azure_endpoint",
    "endpoint",
)


def _base_url(serialized: Mapping[str, Any] | None, provider: str | None, hint: str | None) -> Any:
    """The model's base URL: as constructed (``serialized`` kwargs), else the SDK's default:
    OpenAI's, or Anthropic's when the model says it is Anthropic's (``ls_provider``), not when
    only its model name looks like Claude (a gateway's, Bedrock's)."""
    kwargs = (serialized or {}).get("kwargs")
    if isinstance(kwargs, Mapping):
        for key in _BASE_URL_KEYS:
            if isinstance(kwargs.get(key), str) and kwargs[key]:
                return kwargs[key]
    if provider == semconv.PROVIDER_OPENAI:
        return openai_default_base_url()
    return anthropic_default_base_url() if hint == semconv.PROVIDER_ANTHROPIC else None


def inference_operation(
    kind: OperationKind,
    inputs: Sequence[Any],
    params: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    tags: Sequence[str] | None,
    serialized: Mapping[str, Any] | None = None,
) -> Operation:
    """``inputs``: the message lists (chat) or prompt strings (completion) of the first prompt."""
    params = params or {}
    meta = metadata or {}
    model = _model_of(params, meta)
    hint = as_str(meta.get("ls_provider"))
    provider = resolve_provider(hint, model)
    address, port = server_from_url(_base_url(serialized, provider, hint))
    request = _request(params, meta)
    if not request.stream and _started_by_stream():
        request.stream = True
    op = Operation(
        kind,
        provider=provider,
        request_model=model,
        framework=FRAMEWORK,
        request=request,
        server_address=address,
        server_port=port,
    )
    if kind is OperationKind.CHAT:
        op.input_messages = lambda: _messages.to_messages(inputs)
        op.estimate_input = lambda: _messages.message_texts(inputs)
    else:
        op.input_messages = lambda: _messages.prompts_to_messages(inputs)
        op.estimate_input = lambda: [p for p in inputs if isinstance(p, str)]
    tools = params.get("tools")
    if tools:
        op.tool_definitions = lambda: _messages.tool_definitions(tools)
    return with_attribution(op, metadata, tags)


def _usage_of(generations: Sequence[Any], llm_output: Any) -> Any:
    for gen in generations:
        usage = getattr(getattr(gen, "message", None), "usage_metadata", None)
        if usage:
            return usage
    if isinstance(llm_output, Mapping):
        for key in ("token_usage", "usage", "usage_metadata"):
            if llm_output.get(key):
                return llm_output[key]
    for gen in generations:
        info = getattr(gen, "generation_info", None)
        if info:
            return info  # core looks into usage / usage_metadata / token counts inside
    return None


def inference_outcome(response: Any) -> Outcome:
    generations_all = getattr(response, "generations", None) or []
    generations: Sequence[Any] = generations_all[0] if generations_all else []
    llm_output = getattr(response, "llm_output", None)
    out = Outcome(raw_usage=_usage_of(generations, llm_output))
    finish: list[str] = []
    for gen in generations:
        msg = getattr(gen, "message", None)
        meta = getattr(msg, "response_metadata", None) or {}
        info = getattr(gen, "generation_info", None) or {}
        reason = meta.get("finish_reason") or meta.get("stop_reason") or info.get("finish_reason")
        if not reason and meta.get("object") == "response":  # OpenAI's Responses API: a status
            reason = responses_finish_reason(
                meta, tool_calls=bool(getattr(msg, "tool_calls", None))
            )
        if reason:
            finish.append(str(reason))
        if out.response_model is None:
            out.response_model = as_str(meta.get("model_name")) or as_str(meta.get("model"))
        if out.response_id is None:
            out.response_id = as_str(meta.get("id"))
            msg_id = as_str(getattr(msg, "id", None))
            if out.response_id is None and msg_id and not msg_id.startswith(RUN_ID_PREFIXES):
                out.response_id = msg_id
    if isinstance(llm_output, Mapping):
        out.response_model = out.response_model or as_str(llm_output.get("model_name"))
        out.response_id = out.response_id or as_str(llm_output.get("id"))
    out.finish_reasons = finish or None
    out.output_messages = lambda: _messages.generation_messages(generations)
    out.estimate_output = lambda: _messages.generation_texts(generations)
    return out
