"""A step that starts after its request ended still belongs to the request's user.

An async ``RunnableParallel`` whose one branch fails while the other still runs: the root ends
(error) and core retires the survivor's open runs; the survivor, waiting on a thread of the
loop's default executor, then makes its model call there (``run_in_executor`` copies no
context, so no ``attribution()`` block is current in that thread). The call nests under the
retired branch and carries the request's attribution, on its span and in its user's budget (it
had none until 2026-12-07: a retired run kept only its span's ids)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda, RunnableParallel
from lifecycle_checks import Lifecycle
from openai_clients import CHAT_MODEL, RESPONSE_MODEL, chat_model
from openai_wire import OpenAIWire, chat_completion, usage

from genai_trace_core import Budget, BudgetTracker, attribution, semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")


async def test_a_step_started_after_its_root_failed_keeps_the_requests_attribution(
    otel: OTelHarness, lifecycle: Lifecycle, clients: Any, enabled: dict[str, Any]
) -> None:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    down = httpx.Response(500, json={"error": {"message": "down", "code": "x"}})
    up = chat_completion(
        response_id="chatcmpl-b", model=RESPONSE_MODEL, content="B", token_usage=usage(9, 6)
    )
    late_chat = chat_model(OpenAIWire(up), clients)
    finished = asyncio.Event()

    async def in_executor(x: dict[str, Any], config: RunnableConfig) -> str:
        def work() -> Any:
            time.sleep(0.05)  # the other branch fails meanwhile: the root ends
            return late_chat.invoke(x["q"], config)

        answer = await asyncio.get_running_loop().run_in_executor(None, work)
        finished.set()
        return str(answer.content)

    a = prompt | chat_model(OpenAIWire(down), clients)
    b = RunnableLambda(in_executor).with_config(run_name="late_step")
    budget = Budget(limit_usd=1.0, scope="user")
    tracker = BudgetTracker([budget]).install()
    try:
        # langchain-openai's error class varies
        with attribution(user_id="alice", tenant_id="acme"), pytest.raises(Exception):  # noqa: B017
            await RunnableParallel(a=a, b=b).ainvoke({"q": "where?"}, enabled)
        await asyncio.wait_for(finished.wait(), 5)  # branch b carries on after the failure
        await asyncio.sleep(0.01)
    finally:
        tracker.uninstall()

    spans = otel.span_dicts()
    by_id = {d["span_id"]: d for d in spans}
    late = [d for d in spans if by_id.get(d["parent_id"], {}).get("name") == "late_step"]
    assert [d["name"] for d in late] == [f"chat {CHAT_MODEL}"]  # under the retired run
    chat = late[0]
    assert len({d["trace_id"] for d in spans}) == 1
    assert chat["attributes"][semconv.GEN_AI_USAGE_INPUT_TOKENS] == 9
    assert {
        (d["attributes"].get(semconv.USER_ID), d["attributes"].get(semconv.TENANT_ID))
        for d in spans
    } == {("alice", "acme")}
    cost = chat["attributes"][semconv.COST_USD]
    assert cost > 0
    assert tracker.spent(budget, "alice") == pytest.approx(cost)
    lifecycle.check()
