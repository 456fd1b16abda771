"""Attribution blocks and agent/workflow nesting where a request crosses runs and integrations.

* An ``attribution()`` block opened inside a running chain (a lambda step, a tool) attributes the
  model calls made in it, and their spend, to its user and tenant, not to the block around the
  whole request; nested blocks merge their metadata, and a block's metadata values follow the
  same rules as framework metadata (JSON, bounded, ``None`` left out).
* A LangChain chain invoked from a LlamaIndex workflow step is a nested invocation
  (``gen_ai.invocation.is_nested=true``), though each integration keeps its own run registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.workflow import StartEvent, StopEvent, Workflow, step

from genai_trace_core import attribution, semconv
from genai_trace_core.testing import OTelHarness


@pytest.fixture
def langchain(otel: OTelHarness) -> Iterator[None]:
    from genai_trace_langchain import LangChainInstrumentor

    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        logger_provider=otel.logger_provider,
    )
    yield
    instrumentor.uninstrument()


def _chat_attributes(otel: OTelHarness) -> dict[str, Any]:
    [chat] = [s for s in otel.spans() if s.name.startswith("chat ")]
    return {
        k: v
        for k, v in (chat.attributes or {}).items()
        if k in (semconv.USER_ID, semconv.TENANT_ID) or k.startswith(semconv.METADATA_PREFIX)
    }


def test_a_block_opened_inside_a_step_attributes_the_calls_made_in_it(
    otel: OTelHarness, langchain: None
) -> None:
    from langchain_core.runnables import RunnableLambda

    from genai_trace_core import Budget, BudgetTracker
    from genai_trace_langchain.testing import FakeChatOpenAI

    per_user = Budget(limit_usd=1.0, window="day", scope="user")
    budgets = BudgetTracker([per_user]).install()
    chat = FakeChatOpenAI(responses=["fine"])

    def on_behalf_of_bob(question: str) -> str:
        with attribution(user_id="bob", tenant_id="t2", metadata={"channel": "slack"}):
            return str(chat.invoke(question).content)

    try:
        with attribution(user_id="alice", metadata={"plan": "pro"}):
            answer = RunnableLambda(on_behalf_of_bob).invoke("hi")
        spent_bob, spent_alice = budgets.spent(per_user, "bob"), budgets.spent(per_user, "alice")
    finally:
        budgets.uninstall()

    assert answer == "fine"
    assert _chat_attributes(otel) == {
        semconv.USER_ID: "bob",
        semconv.TENANT_ID: "t2",
        semconv.METADATA_PREFIX + "plan": "pro",  # the outer block's, merged
        semconv.METADATA_PREFIX + "channel": "slack",
    }
    assert spent_bob > 0
    assert spent_alice == 0


def test_block_metadata_values_are_json_bounded_and_none_is_left_out(
    otel: OTelHarness, langchain: None
) -> None:
    from genai_trace_langchain.testing import FakeChatOpenAI

    metadata = {"limits": {"daily": 5}, "note": "n" * 1000, "gone": None, "seats": 3}
    with attribution(metadata=metadata):
        FakeChatOpenAI(responses=["ok"]).invoke("hi")

    assert _chat_attributes(otel) == {
        semconv.METADATA_PREFIX + "limits": '{"daily": 5}',
        semconv.METADATA_PREFIX + "note": "n" * 256,
        semconv.METADATA_PREFIX + "seats": "3",
    }


class Ask(Workflow):
    """A workflow whose one step answers with a LangChain chain."""

    @step
    async def ask(self, ev: StartEvent) -> StopEvent:
        from langchain_core.prompts import ChatPromptTemplate

        from genai_trace_langchain.testing import FakeChatOpenAI

        chain = (
            ChatPromptTemplate.from_messages([("user", "{q}")]) | FakeChatOpenAI(responses=["42"])
        ).with_config(run_name="answer")
        reply = await chain.ainvoke({"q": str(ev.q)})
        return StopEvent(result=reply.content)


async def test_a_chain_run_from_a_workflow_step_is_a_nested_invocation(
    otel: OTelHarness, langchain: None
) -> None:
    from genai_trace_llamaindex import LlamaIndexInstrumentor

    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        logger_provider=otel.logger_provider,
    )
    try:
        assert await Ask(timeout=10).run(q="meaning?") == "42"
    finally:
        instrumentor.uninstrument()

    points = {
        (
            p["attributes"][semconv.GEN_AI_OPERATION_NAME],
            p["attributes"].get(semconv.GEN_AI_WORKFLOW_NAME),
        ): p["attributes"][semconv.GEN_AI_INVOCATION_IS_NESTED]
        for p in otel.metrics()["gen_ai.invocation.duration"]
    }
    assert points == {("invoke_workflow", "Ask"): False, ("invoke_workflow", "answer"): True}
