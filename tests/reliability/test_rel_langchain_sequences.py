"""Random callback sequences through the LangChain ``OpenTelemetryCallbackHandler``.

The handler's callback methods are called directly, the way LangChain's callback managers call
them, but in generated orders: starts under unknown, cyclic, ended or self parents; ends and
errors for runs never started or already ended; duplicated calls; calls from another thread or
another asyncio task; every kind of exception; ``None`` and odd types in every argument
(serialized dicts, message lists, invocation params, ``LLMResult`` shapes, documents, tool
outputs, retry states). Content capture is on (``SPAN_AND_EVENT``) so the content paths run too.

Properties: no call raises; after every open root is ended through the handler
(``on_chain_end``) nothing but a streamed inference is still open; after ``shutdown()`` the
registry is empty and every span the SDK started reached ``on_end`` exactly once; no
OpenTelemetry context error is logged; every span and log record encodes as OTLP.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, Generation, LLMResult
from opentelemetry import context as otel_context
from reliability_support import captured_logs, otlp_bytes, with_ledger
from reliability_values import (
    ERRORS,
    ODD,
    BrokenRepr,
    Hops,
    assert_context_restored_or_only_stale,
    open_roots,
    survivors,
)

from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

# --- argument pools ---------------------------------------------------------------------------

POOL = [uuid.UUID(int=i) for i in range(1, 7)]
RUN_IDS: list[Any] = [*POOL, *POOL, None, "run-str", ["unhashable"]]
PARENTS: list[Any] = [None, None, *POOL, uuid.UUID(int=999), "p", {"d": 1}]

SERIALIZED: list[Any] = [
    None,
    {},
    {"name": "rag", "id": ["langchain", "schema", "runnable", "RunnableSequence"]},
    {"id": "not-a-list", "kwargs": object()},
    {"name": object(), "id": []},
    {
        "id": ["langchain", "prompts", "chat", "ChatPromptTemplate"],
        "kwargs": {"input_variables": ["q"], "optional_variables": None},
    },
    BrokenRepr(),
]
_HUMAN = HumanMessage("What is the capital of France? card 4111 1111 1111 1111")
MESSAGES: list[Any] = [
    [[SystemMessage("be brief"), _HUMAN]],
    [[_HUMAN, AIMessage("", tool_calls=[{"name": "t", "args": {"x": 1}, "id": "c1"}])]],
    [[ToolMessage("42", tool_call_id="c1"), HumanMessage([{"type": "image_url"}, "txt"])]],
    [],
    [[]],
    [[None, 3, object()]],
    None,
    "not messages",
    [[HumanMessage("x" * 20_000)]],
]
PROMPTS: list[Any] = [["hello"], [], None, [None, 1], "a string", ["\udcff"]]
INVOCATION: list[Any] = [
    None,
    {"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 5, "_type": "openai-chat"},
    {"model_name": object(), "temperature": "hot", "stop": 3, "tools": [object()]},
    {"model": ["list"], "n": float("nan"), "api_key": "sk-hidden0123456789abcdefghij"},
    "params",
]
METADATA: list[Any] = [
    None,
    {},
    {"ls_provider": "openai", "ls_model_name": "gpt-4o-mini", "thread_id": "t1"},
    {"ls_provider": object(), "lc_hub_repo": 3, "prompt_version": None, "agent_name": []},
    {"langgraph_node": "agent", "langgraph_step": "x", "checkpoint_ns": "a|b"},
    "meta",
]
TAGS: list[Any] = [None, [], ["retry:attempt:2"], ["seq:step:1", "user-tag"], [None, 3], "tags"]
RUN_TYPES: list[Any] = [None, "prompt", "parser", "tool", object()]
NAMES: list[Any] = [None, "rag", "LangGraph", "agent", "", object(), "\udcff"]


def _usage_message() -> AIMessage:
    return AIMessage(
        "Paris",
        usage_metadata={"input_tokens": 9, "output_tokens": 2, "total_tokens": 11},
        response_metadata={"model_name": "gpt-4o-mini-2024-07-18", "finish_reason": "stop"},
    )


RESPONSES: list[Any] = [
    LLMResult(generations=[[ChatGeneration(message=_usage_message())]]),
    LLMResult(generations=[[Generation(text="done")]], llm_output={"token_usage": {"x": "y"}}),
    LLMResult(generations=[], llm_output={"token_usage": {"prompt_tokens": -3}}),
    LLMResult.model_construct(generations=None, llm_output=BrokenRepr()),
    LLMResult.model_construct(generations=[[None, object()]], llm_output=[1, 2]),
    None,
    {"generations": "dict"},
    BrokenRepr(),
]
TOKENS: list[Any] = ["tok", "", None, object(), {"chunk": 1}]
OUTPUTS: list[Any] = [
    None,
    "result",
    ToolMessage("boom", tool_call_id="c1", status="error"),
    ToolMessage("ok", tool_call_id="c1"),
    {"output": object()},
    BrokenRepr(),
]
DOCUMENTS: list[Any] = [
    [Document("Paris is in France", id="d1", metadata={"score": 0.9})],
    [],
    None,
    [None, "str", object()],
    [Document("x", metadata={"score": "high", "source": object()})],
    "docs",
]


class _RetryState:
    def __init__(self, attempt: Any) -> None:
        self.attempt_number = attempt


RETRY_STATES: list[Any] = [_RetryState(2), _RetryState("two"), None, object(), BrokenRepr()]

# --- actions ----------------------------------------------------------------------------------

rid = st.sampled_from(RUN_IDS)
parent = st.sampled_from(PARENTS)
odd = st.sampled_from(ODD)
common_start = (rid, parent, st.sampled_from(TAGS), st.sampled_from(METADATA))

actions_local = st.one_of(
    st.tuples(
        st.just("chain_start"),
        *common_start,
        st.sampled_from(SERIALIZED),
        odd,
        st.sampled_from(NAMES),
        st.sampled_from(RUN_TYPES),
    ),
    st.tuples(
        st.just("chat_start"),
        *common_start,
        st.sampled_from(SERIALIZED),
        st.sampled_from(MESSAGES),
        st.sampled_from(INVOCATION),
    ),
    st.tuples(
        st.just("llm_start"),
        *common_start,
        st.sampled_from(SERIALIZED),
        st.sampled_from(PROMPTS),
        st.sampled_from(INVOCATION),
    ),
    st.tuples(
        st.just("tool_start"),
        *common_start,
        st.sampled_from(SERIALIZED),
        odd,
        st.sampled_from([None, {"x": 1}, {"q": object()}, "inputs"]),
        st.sampled_from([None, "call_1", 3]),
    ),
    st.tuples(
        st.just("retriever_start"),
        *common_start,
        st.sampled_from(SERIALIZED),
        st.sampled_from(["capital of France?", None, 3, "\udcff"]),
        st.sampled_from(NAMES),
    ),
    st.tuples(st.just("new_token"), rid, st.sampled_from(TOKENS)),
    st.tuples(st.just("llm_end"), rid, st.sampled_from(RESPONSES)),
    st.tuples(st.just("chain_end"), rid, odd),
    st.tuples(st.just("tool_end"), rid, st.sampled_from(OUTPUTS)),
    st.tuples(st.just("retriever_end"), rid, st.sampled_from(DOCUMENTS)),
    st.tuples(
        st.sampled_from(["llm_error", "chain_error", "tool_error", "retriever_error"]),
        rid,
        st.sampled_from(ERRORS),
    ),
    st.tuples(st.just("retry"), rid, st.sampled_from(RETRY_STATES)),
    st.tuples(st.just("custom"), rid, st.sampled_from(["evt", None, object()]), odd),
    # batch/generate: every item's root starts before any runs; stream roots' placeholder input
    st.tuples(
        st.just("batch"),
        st.lists(rid, min_size=2, max_size=4, unique_by=id),
        st.sampled_from(["chain", "chat", "stream"]),
    ),
    # a parent ending before its child, the root still open
    st.tuples(st.just("ancestors_first"), st.lists(rid, min_size=4, max_size=6, unique_by=id)),
)
action = st.one_of(
    actions_local,
    actions_local,
    actions_local,
    st.tuples(st.just("thread"), actions_local),
    st.tuples(st.just("task"), actions_local),
)
sequences = st.lists(action, max_size=30)


class Driver(Hops):
    """Calls the handler's callbacks for generated actions; records anything that escapes."""

    def __init__(self, harness: OTelHarness) -> None:
        telemetry = harness.telemetry(capture_mode="SPAN_AND_EVENT", registry_ttl_seconds=60.0)
        self.handler = OpenTelemetryCallbackHandler(telemetry=telemetry)
        super().__init__(self.apply)

    def apply(self, act: tuple[Any, ...]) -> None:
        h = self.handler
        name, run_id = act[0], act[1]
        if name == "batch":
            for item in run_id:
                if act[2] == "chat":
                    h.on_chat_model_start({}, [[HumanMessage("hi")]], run_id=item)
                else:
                    inputs = {"input": ""} if act[2] == "stream" else {"q": "x"}
                    h.on_chain_start({}, inputs, run_id=item, name="item")
        elif name == "ancestors_first":
            for parent_id, item in zip([None, *run_id], run_id, strict=False):
                h.on_chain_start({}, {"q": "x"}, run_id=item, parent_run_id=parent_id)
            for item in run_id[1:-1]:
                h.on_chain_end({}, run_id=item)
        elif name.endswith("_start"):
            _, _, parent_id, tags, metadata, serialized, *rest = act
            kw: dict[str, Any] = {
                "run_id": run_id,
                "parent_run_id": parent_id,
                "tags": tags,
                "metadata": metadata,
            }
            if name == "chain_start":
                h.on_chain_start(serialized, rest[0], name=rest[1], run_type=rest[2], **kw)
            elif name == "chat_start":
                h.on_chat_model_start(serialized, rest[0], invocation_params=rest[1], **kw)
            elif name == "llm_start":
                h.on_llm_start(serialized, rest[0], invocation_params=rest[1], **kw)
            elif name == "tool_start":
                h.on_tool_start(serialized, rest[0], inputs=rest[1], tool_call_id=rest[2], **kw)
            else:
                h.on_retriever_start(serialized, rest[0], name=rest[1], **kw)
        elif name == "new_token":
            h.on_llm_new_token(act[2], run_id=run_id)
        elif name == "llm_end":
            h.on_llm_end(act[2], run_id=run_id)
        elif name == "chain_end":
            h.on_chain_end(act[2], run_id=run_id)
        elif name == "tool_end":
            h.on_tool_end(act[2], run_id=run_id, tool_call_id="call_1")
        elif name == "retriever_end":
            h.on_retriever_end(act[2], run_id=run_id)
        elif name.endswith("_error"):
            getattr(h, f"on_{name}")(act[2], run_id=run_id)
        elif name == "retry":
            h.on_retry(act[2], run_id=run_id)
        elif name == "custom":
            h.on_custom_event(act[2], act[3], run_id=run_id)


def check_sequence(actions: list[tuple[Any, ...]]) -> None:
    harness = OTelHarness()
    ledger = with_ledger(harness)
    driver = Driver(harness)
    t = driver.handler.telemetry
    before = otel_context.get_current()
    try:
        with captured_logs("opentelemetry.context", logging.ERROR) as ctx_errors:
            for act in actions:
                driver.run(act)
            for _ in range(len(RUN_IDS) + 2):  # end every open root through the handler
                roots = open_roots(t)
                if not roots:
                    break
                for root in roots:
                    driver.guarded(("chain_end", root, None))
            assert survivors(t) == []
            t.shutdown()
            assert driver.escaped == []
            assert t.open_count() == 0, survivors(t)
            assert ledger.open_spans() == []
            assert ledger.ended_more_than_once() == []
            assert_context_restored_or_only_stale(t, harness, before)
            assert ctx_errors == []
        otlp_bytes(harness.spans(), harness.log_exporter.get_finished_logs())
    finally:
        otel_context.attach(before)
        driver.close()
        harness.shutdown()


_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]

# Found by this suite: a prompt template waiting for its model call, then a chain end or error
# with an unhashable run id, raised TypeError from the handler's prompt map to the caller.
PENDING_PROMPT_THEN_UNHASHABLE_END: list[tuple[Any, ...]] = [
    ("chain_start", POOL[0], None, None, None, {}, {}, "root", None),
    ("chain_start", POOL[1], POOL[0], None, None, {}, {"q": "x"}, "my_prompt", "prompt"),
    ("chain_end", ["unhashable"], None),
    ("chain_start", POOL[2], POOL[0], None, None, {}, {"q": "y"}, "my_prompt", "prompt"),
    ("chain_error", ["unhashable"], ValueError("boom")),
]


# A fixed set in the default run (reproducible CI); the slow run explores at random.
@settings(max_examples=200, deadline=None, suppress_health_check=_HEALTH, derandomize=True)
@given(sequences)
@example(PENDING_PROMPT_THEN_UNHASHABLE_END)
def test_random_langchain_callback_sequences_never_raise_and_end_every_span_once(
    actions: list[tuple[Any, ...]],
) -> None:
    check_sequence(actions)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=_HEALTH)
@given(sequences)
def test_ten_thousand_random_langchain_callback_sequences_keep_every_property(
    actions: list[tuple[Any, ...]],
) -> None:
    check_sequence(actions)
