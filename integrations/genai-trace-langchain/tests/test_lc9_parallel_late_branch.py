"""An async ``RunnableParallel`` whose one branch fails while the other still runs. LangChain's
``ainvoke`` gathers the branches without cancelling the survivor, so the root ends (error, as the
app sees it) while branch ``b`` still runs: core abandons ``b``'s open spans and forgets their run
ids, and the steps ``b`` starts afterwards (its prompt, its ``chat`` call with the tokens, its
parser) each become a trace of their own. One request, one trace: they nest under ``b``'s
(ended) span in the request's trace (each was a trace of its own until 2026-12-07)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from lifecycle_checks import Lifecycle
from openai_clients import RESPONSE_MODEL, chat_model
from openai_wire import OpenAIWire, chat_completion, usage

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")


async def test_branch_still_running_when_the_parallel_failed_stays_in_the_trace(
    otel: OTelHarness, lifecycle: Lifecycle, clients: Any, enabled: dict[str, Any]
) -> None:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    down = httpx.Response(500, json={"error": {"message": "down", "code": "x"}})
    up = chat_completion(
        response_id="chatcmpl-b", model=RESPONSE_MODEL, content="B", token_usage=usage(9, 6)
    )
    finished = asyncio.Event()

    async def later(x: Any) -> Any:
        await asyncio.sleep(0.05)
        return x

    def done(answer: str) -> str:
        finished.set()
        return answer

    a = prompt | chat_model(OpenAIWire(down), clients) | StrOutputParser()
    b = RunnableLambda(later) | prompt | chat_model(OpenAIWire(up), clients) | StrOutputParser()
    with pytest.raises(Exception):  # noqa: B017 - langchain-openai's error class varies
        await RunnableParallel(a=a, b=b | done).ainvoke({"q": "where?"}, enabled)
    await asyncio.wait_for(finished.wait(), 5)  # branch b carries on after the failure
    await asyncio.sleep(0.01)
    spans = otel.spans()
    assert len({s.context.trace_id for s in spans}) == 1, [
        s.name for s in spans if s.parent is None
    ]
    chats = [s for s in spans if s.name.startswith("chat ")]
    assert sorted(s.attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS, 0) for s in chats) == [0, 9]
    lifecycle.check()
