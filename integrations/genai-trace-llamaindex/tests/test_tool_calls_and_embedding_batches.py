"""Two shapes of the real LlamaIndex OpenAI clients (``httpx.MockTransport``, no network):

* an answer with two tool calls is two ``tool_call`` parts in ``gen_ai.output.messages``, and in
  the next call's input messages: llama-index-llms-openai 0.8 reports each call twice (a
  ``ToolCallBlock`` and ``additional_kwargs["tool_calls"]``);
* an embedding batch larger than ``embed_batch_size`` is one HTTP call per chunk: made where no
  span is current, its calls are one trace under the batch's step span, not a trace each.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from li_openai_wire import openai_clients
from li_support import Instrument
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from genai_trace_core.testing import OTelHarness

CALLS = [("call_1", {"a": 2, "b": 3}), ("call_2", {"a": 7, "b": 8})]


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _answer(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if request.url.path.endswith("/embeddings"):
        inputs = body["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.5] * 8} for i in range(len(inputs))
        ]
        usage = {"prompt_tokens": 3, "total_tokens": 3}
        return httpx.Response(
            200, json={"object": "list", "data": data, "model": body["model"], "usage": usage}
        )
    calls = [
        {"id": cid, "type": "function", "function": {"name": "add", "arguments": json.dumps(args)}}
        for cid, args in CALLS
    ]
    message = {"role": "assistant", "content": None, "tool_calls": calls}
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-tools",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
        },
    )


def _parts(attribute: Any) -> list[list[tuple[str, Any]]]:
    return [
        [(p["type"], p.get("id") or p.get("content")) for p in message["parts"]]
        for message in json.loads(attribute)
    ]


def test_two_tool_calls_are_two_parts_in_the_answer_and_in_the_next_input(
    otel: OTelHarness, instrument: Instrument
) -> None:
    llm, _ = openai_clients(_answer)
    instrument(capture_mode="SPAN_ONLY")
    tool = FunctionTool.from_defaults(add)
    response = llm.chat_with_tools([tool], user_msg="2+3 and 7+8?", allow_parallel_tool_calls=True)
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)
    assert [(c.tool_id, c.tool_kwargs) for c in calls] == CALLS
    history = [ChatMessage(role="user", content="2+3 and 7+8?"), response.message]
    llm.chat(history)

    first, second = (s.attributes or {} for s in otel.spans())
    assert _parts(first["gen_ai.output.messages"]) == [
        [("tool_call", "call_1"), ("tool_call", "call_2")]
    ]
    assert _parts(second["gen_ai.input.messages"]) == [
        [("text", "2+3 and 7+8?")],
        [("tool_call", "call_1"), ("tool_call", "call_2")],
    ]


async def test_an_embedding_batch_of_several_chunks_is_one_trace(
    otel: OTelHarness, instrument: Instrument
) -> None:
    _, embed = openai_clients(_answer)
    embed.embed_batch_size = 2
    instrument()
    texts = ["Paris", "Berlin", "Madrid", "Rome", "Lisbon"]
    assert len(embed.get_text_embedding_batch(texts)) == 5
    assert len(await embed.aget_text_embedding_batch(texts)) == 5
    assert len(embed.get_text_embedding_batch(texts[:2])) == 2  # one chunk: no step span

    chunk = ["embeddings text-embedding-3-small", []]
    # the step is named after the class that defines the batch method (BaseEmbedding in 0.12)
    tree = [_shape(n) for n in otel.tree(attributes=False)]
    assert tree == [
        ["get_text_embedding_batch", [chunk] * 3],
        ["aget_text_embedding_batch", [chunk] * 3],
        chunk,
    ]
    counts = [
        s.attributes.get("genai_trace.embeddings.input_count")
        for s in otel.spans()
        if s.name.startswith("embeddings")
    ]
    assert counts == [2, 2, 1, 2, 2, 1, 2]


def _shape(node: dict[str, Any]) -> list[Any]:
    name = node["name"]
    if "embedding_batch" in name:  # Class.method: the method
        name = name.rpartition(".")[2]
    return [name, [_shape(c) for c in node["children"]]]
