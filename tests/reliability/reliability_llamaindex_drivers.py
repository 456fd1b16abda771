"""Drivers and strategies for the random LlamaIndex handler sequences
(``test_rel_llamaindex_sequences.py``): real LlamaIndex instances as span ids, dispatcher span and
event calls, legacy callback calls, and the hops (threads, tasks) they run on."""

from __future__ import annotations

import asyncio
import functools
import inspect
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

from hypothesis import strategies as st
from llama_index.core import Document, VectorStoreIndex, get_response_synthesizer
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.instrumentation.events import embedding, exception, llm, rerank
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.tools import FunctionTool, ToolOutput
from llama_index.core.workflow import StartEvent, StopEvent, Workflow, step
from reliability_values import (
    ERRORS,
    ODD,
    BrokenRepr,
)

from genai_trace_core import CaptureMode, Settings, Telemetry
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import OpenTelemetryCallbackHandler
from genai_trace_llamaindex._bridge import Bridge
from genai_trace_llamaindex._dispatcher import GenAIEventHandler, GenAISpanHandler
from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM

CAPTURE = Settings(capture_mode=CaptureMode.SPAN_AND_EVENT, registry_ttl_seconds=60.0)


class EchoWorkflow(Workflow):
    @step
    async def echo(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="ok")


def _add(a: int, b: int) -> int:
    return a + b


@functools.cache
def instances() -> list[tuple[Any, str]]:
    """(instance, method) pairs covering every role the bridge gives a span or a key."""
    model = DeterministicLLM()
    index = VectorStoreIndex.from_documents(
        [Document(text="Paris is the capital of France.")], embed_model=DeterministicEmbedding()
    )
    index.set_index_id("capitals")
    tool = FunctionTool.from_defaults(fn=_add, name="add")
    # SimpleChatEngine.from_defaults opens an aiosqlite memory it never closes: a plain buffer.
    chat_engine = SimpleChatEngine(
        llm=model, memory=ChatMemoryBuffer.from_defaults(llm=model), prefix_messages=[]
    )
    with warnings.catch_warnings():  # FunctionAgent reads pydantic's deprecated __fields__
        warnings.simplefilter("ignore", DeprecationWarning)
        agent = FunctionAgent(tools=[tool], llm=model)
    out: list[tuple[Any, str]] = [
        (index.as_query_engine(llm=model), "query"),
        (index.as_query_engine(llm=model), "aquery"),
        (index.as_retriever(), "retrieve"),
        (get_response_synthesizer(llm=model), "synthesize"),
        (chat_engine, "chat"),
        (model, "chat"),
        (model, "complete"),
        (model, "stream_chat"),
        (model, "astream_complete"),
        (tool, "call"),
        (tool, "acall"),
        (EchoWorkflow(), "run"),
        (agent, "run"),
        (model, "_get_messages"),  # noise: a link
        (None, "step"),  # a workflow step span (no instance)
    ]
    assert len(out) == SLOTS
    return out


SLOTS = 15  # len(instances()), without building them at import time
IDS: list[Any] = [(slot, k) for slot in range(SLOTS) for k in range(2)]
ODD_IDS: list[Any] = [None, 3, ["unhashable"], "no-dash"]


def span_id(ref: Any) -> Any:
    """A generated id ``(slot, k)`` -> ``"Class.method-k"``; odd ids pass through."""
    if isinstance(ref, tuple):
        instance, method = instances()[ref[0]]
        return f"{type(instance).__name__}.{method}-{ref[1]}"
    return ref


class _ToolCallEvent:
    tool_id = "call_1"
    tool_name = "add"
    tool_kwargs: ClassVar[dict[str, int]] = {"a": 1, "b": 2}


def _signature(
    str_or_query_bundle: Any = None,
    nodes: Any = None,
    query: Any = None,
    message: Any = None,
    ev: Any = None,
    init_state: Any = None,
    kwargs: Any = None,
    args: Any = None,
) -> None:
    return None


_SIG = inspect.signature(_signature)
_NODES = [NodeWithScore(node=TextNode(text="Paris is in France", id_="n1"), score=0.5)]
BOUND: list[Any] = [
    _SIG.bind(),
    _SIG.bind(str_or_query_bundle="capital of France?"),
    _SIG.bind(nodes=_NODES, query="q"),
    _SIG.bind(message=object()),
    _SIG.bind(ev=_ToolCallEvent()),
    _SIG.bind(init_state=None, kwargs={"a": 1}, args=(1,)),
    _SIG.bind(kwargs="not a dict", nodes="nodes"),
    None,
    BrokenRepr(),
]
TAGS: list[Any] = [None, {}, {"llamaindex.run_id": "r1", "llamaindex.step.input_event": "E"}, 3]


def _gen() -> Iterator[str]:
    yield "a"
    yield "b"


class _Streaming:
    def __init__(self) -> None:
        self.response_gen = _gen()


RESULTS: list[Any] = [
    None,
    _NODES,
    [None, object()],
    ToolOutput(tool_name="add", content="3", raw_input={}, raw_output=3),
    ToolOutput(tool_name="add", content="err", raw_input={}, raw_output=None, is_error=True),
    _Streaming(),
    "result",
    BrokenRepr(),
]
_CHAT = ChatResponse(
    message=ChatMessage(role="assistant", content="Paris"),
    raw={"model": "gpt-4o-mini", "usage": {"prompt_tokens": 3, "completion_tokens": 1}},
)
EVENTS: list[tuple[type[Any], dict[str, Any]]] = [
    (llm.LLMChatStartEvent, {"messages": [ChatMessage(content="hi")], "model_dict": {}}),
    (llm.LLMChatStartEvent, {"messages": object(), "model_dict": BrokenRepr()}),
    (llm.LLMCompletionStartEvent, {"prompt": "hi", "model_dict": {"model": "gpt-4o-mini"}}),
    (llm.LLMChatInProgressEvent, {"response": _CHAT}),
    (llm.LLMChatEndEvent, {"response": _CHAT}),
    (llm.LLMChatEndEvent, {"response": None}),
    (llm.LLMCompletionEndEvent, {"response": CompletionResponse(text="x", raw=BrokenRepr())}),
    (embedding.EmbeddingStartEvent, {"model_dict": {"model_name": "text-embedding-3-small"}}),
    (embedding.EmbeddingEndEvent, {"chunks": ["a", "b"], "embeddings": [[0.1], [0.2]]}),
    (embedding.EmbeddingEndEvent, {"chunks": object(), "embeddings": "x"}),
    (rerank.ReRankStartEvent, {"query": "q", "nodes": _NODES, "top_n": 2, "model_name": 3}),
    (rerank.ReRankEndEvent, {"nodes": _NODES}),
    (exception.ExceptionEvent, {"exception": ValueError("stream broke")}),
    (exception.ExceptionEvent, {"exception": asyncio.CancelledError()}),
]

ids = st.sampled_from(IDS)
any_id = st.one_of(ids, ids, ids, st.sampled_from(ODD_IDS))
parent = st.one_of(st.none(), ids, st.sampled_from(ODD_IDS))
dispatcher_local = st.one_of(
    st.tuples(
        st.just("enter"),
        any_id,
        parent,
        st.sampled_from(BOUND),
        st.sampled_from(TAGS),
        st.sampled_from(["own", "own", "own", "none", "odd"]),
    ),
    st.tuples(
        st.just("enter"), any_id, parent, st.sampled_from(BOUND), st.just(None), st.just("own")
    ),
    st.tuples(st.just("exit"), any_id, st.sampled_from(RESULTS)),
    st.tuples(st.just("drop"), any_id, st.sampled_from(ERRORS)),
    st.tuples(st.just("event"), any_id, st.integers(0, len(EVENTS) - 1), st.sampled_from(ODD)),
    st.tuples(st.just("hooks"), any_id, st.sampled_from(ODD)),
    # concurrent requests: every root enters (no parent) before any exits, in one context
    st.tuples(st.just("batch"), st.lists(ids, min_size=2, max_size=5, unique=True)),
    # a chain whose middle ancestors exit first, top-down (the first one maybe returning a
    # stream read later), while its top and deepest span stay open: ending the top must still
    # end the deepest; and spans entered afterwards naming an ended ancestor as their parent
    st.tuples(
        st.just("ancestors_first"),
        st.lists(ids, min_size=4, max_size=7, unique=True),
        st.booleans(),  # the first middle span returns a stream
        st.lists(ids, max_size=2),  # entered late, under a middle span and the deepest
    ),
)

EVENT_TYPES: list[Any] = [*CBEventType, None, "llm", object()]
PAYLOADS: list[Any] = [
    None,
    {},
    {EventPayload.MESSAGES: [ChatMessage(content="hi")], EventPayload.SERIALIZED: {}},
    {EventPayload.PROMPT: "hi", EventPayload.SERIALIZED: {"model": "gpt-4o-mini"}},
    {EventPayload.RESPONSE: _CHAT},
    {EventPayload.COMPLETION: CompletionResponse(text="x")},
    {EventPayload.QUERY_STR: "capital?", EventPayload.NODES: _NODES},
    {EventPayload.CHUNKS: ["a"], EventPayload.EMBEDDINGS: [[0.1]]},
    {EventPayload.NODES: "nodes", EventPayload.TOP_K: object(), EventPayload.MODEL_NAME: 3},
    {EventPayload.EXCEPTION: ValueError("boom")},
    {EventPayload.EXCEPTION: KeyboardInterrupt()},
    {EventPayload.RESPONSE: _Streaming()},
    "payload",
    {EventPayload.MESSAGES: object(), EventPayload.SERIALIZED: BrokenRepr()},
]
LEGACY_IDS: list[Any] = ["e1", "e2", "e3", "e4", "e5", "", None, 7]
legacy_id = st.sampled_from(LEGACY_IDS)
legacy_local = st.one_of(
    st.tuples(
        st.just("start"),
        st.sampled_from(EVENT_TYPES),
        st.sampled_from(PAYLOADS),
        legacy_id,
        legacy_id,
    ),
    st.tuples(st.just("end"), st.sampled_from(EVENT_TYPES), st.sampled_from(PAYLOADS), legacy_id),
    st.tuples(st.just("start_trace"), st.sampled_from([None, "query", *ODD])),
    st.tuples(
        st.just("end_trace"),
        st.sampled_from([None, "query", object()]),
        st.sampled_from([None, {"root": ["e1"]}, "map", {"e1": None}]),
    ),
)


def _with_hops(local: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    act = st.one_of(
        local,
        local,
        local,
        st.tuples(st.just("thread"), local),
        st.tuples(st.just("task"), local),
    )
    return st.lists(act, max_size=30)


class DispatcherDriver:
    def __init__(self, harness: OTelHarness) -> None:
        self.bridge = Bridge(harness.telemetry(CAPTURE))
        self.spans = GenAISpanHandler(self.bridge)
        self.events = GenAIEventHandler(self.bridge)

    def apply(self, act: tuple[Any, ...]) -> None:
        name, sid = act[0], span_id(act[1])
        if name == "enter":
            _, _, parent_ref, bound, tags, which = act
            instance = None
            if which == "own" and isinstance(act[1], tuple):
                instance = instances()[act[1][0]][0]
            elif which == "odd":
                instance = BrokenRepr()
            self.spans.span_enter(sid, bound, instance, span_id(parent_ref), tags)
        elif name == "exit":
            self.spans.span_exit(sid, _SIG.bind(), None, act[2])
        elif name == "drop":
            self.spans.span_drop(sid, _SIG.bind(), None, act[2])
        elif name == "event":
            cls, fields = EVENTS[act[2]]
            self.events.handle(cls.model_construct(span_id=sid, **fields))
            self.events.handle(act[3])  # not an event at all
        elif name == "hooks":
            self.spans.new_span(sid, act[2])
            self.spans.prepare_to_exit_span(sid, act[2])
            self.spans.prepare_to_drop_span(sid, act[2])
        elif name == "batch":
            self._batch(act[1])
        elif name == "ancestors_first":
            chain = act[1]
            for parent_ref, ref in zip([None, *chain], chain, strict=False):
                self._enter(ref, parent_ref)
            for i, ref in enumerate(chain[1:-1]):
                result = _Streaming() if act[2] and i == 0 else None
                self.spans.span_exit(span_id(ref), _SIG.bind(), None, result)
            for ref in act[3]:  # late: under the first middle span (ended), and the deepest
                self._enter(ref, chain[1])
                self._enter((ref[0], 1 - ref[1]), chain[-1])

    def _batch(self, refs: list[Any]) -> None:
        """Enter the roots; none may nest under another: they share the parent the first got."""
        t = self.bridge.telemetry
        fresh = [span_id(ref) for ref in refs if not t.is_open(span_id(ref))]
        for ref in refs:
            self._enter(ref, None)
        runs = [t._registry.get(sid) for sid in fresh]
        spans = [r.span for r in runs if r is not None and r.span is not None]
        ours = {s.get_span_context().span_id for s in spans}
        parents = {s.parent.span_id if s.parent else None for s in spans}  # type: ignore[attr-defined]
        assert len(parents) <= 1 and not parents & ours, "a root nested in a sibling"

    def _enter(self, ref: Any, parent_ref: Any) -> None:
        instance = instances()[ref[0]][0]
        self.spans.span_enter(span_id(ref), BOUND[0], instance, span_id(parent_ref), None)

    def end_root(self, rid: Any) -> None:
        self.spans.span_exit(rid, _SIG.bind(), None, None)

    def shutdown(self) -> None:
        self.spans.close()


class LegacyDriver:
    def __init__(self, harness: OTelHarness) -> None:
        self.handler = OpenTelemetryCallbackHandler(
            harness.tracer_provider,
            harness.meter_provider,
            harness.logger_provider,
            settings=CAPTURE,
        )
        self.bridge = self  # for the shared checks: ``telemetry`` lives on the handler

    @property
    def telemetry(self) -> Telemetry:
        return self.handler.telemetry

    def apply(self, act: tuple[Any, ...]) -> None:
        h = self.handler
        name = act[0]
        if name == "start":
            h.on_event_start(act[1], act[2], event_id=act[3], parent_id=act[4])
        elif name == "end":
            h.on_event_end(act[1], act[2], event_id=act[3])
        elif name == "start_trace":
            h.start_trace(act[1])
        else:
            h.end_trace(act[1], act[2])

    def end_root(self, rid: Any) -> None:
        self.handler.on_event_end(CBEventType.QUERY, {}, event_id=rid)

    def shutdown(self) -> None:
        self.handler.shutdown()
