"""The span lifecycle keyed by run id: parents, ordering, duplicates, orphans, context hygiene."""

from __future__ import annotations

import asyncio
import contextvars
import threading

from opentelemetry import context as otel_context
from opentelemetry import trace

from genai_trace_core import Operation, OperationKind, Outcome, RequestParams, semconv
from genai_trace_core.testing import OTelHarness

WF = OperationKind.INVOKE_WORKFLOW
CHAT = OperationKind.CHAT


def chat_op(model: str = "gpt-4o-mini", **kw: object) -> Operation:
    return Operation(CHAT, provider="openai", request_model=model, **kw)  # type: ignore[arg-type]


def names(tree: list[dict[str, object]]) -> list[object]:
    return [[n["name"], names(n["children"])] for n in tree]  # type: ignore[arg-type]


def test_children_nest_under_parent_run_ids_span(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("root", Operation(WF, name="rag"))
    t.start("ret", Operation(OperationKind.RETRIEVAL, name="docs", top_k=4), parent_run_id="root")
    t.start(
        "emb",
        Operation(
            OperationKind.EMBEDDINGS, request_model="text-embedding-3-small", provider="openai"
        ),
        parent_run_id="ret",
    )
    t.end("emb")
    t.end("ret")
    t.start("chat", chat_op(), parent_run_id="root")
    t.end("chat")
    t.end("root")
    assert names(otel.tree()) == [
        [
            "invoke_workflow rag",
            [
                ["retrieval docs", [["embeddings text-embedding-3-small", []]]],
                ["chat gpt-4o-mini", []],
            ],
        ]
    ]
    tree = otel.tree()
    assert tree[0]["kind"] == "INTERNAL"
    assert tree[0]["children"][0]["kind"] == "CLIENT"
    assert tree[0]["children"][0]["attributes"] == {
        semconv.GEN_AI_OPERATION_NAME: "retrieval",
        semconv.GEN_AI_DATA_SOURCE_ID: "docs",
        semconv.GEN_AI_RETRIEVAL_TOP_K: 4,
    }
    assert t.open_count() == 0


def test_unknown_parent_falls_back_to_current_context(otel: OTelHarness) -> None:
    t = otel.telemetry()
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("user-request"):
        t.start("chat", chat_op(), parent_run_id="never-started")
        t.end("chat")
    assert names(otel.tree()) == [["user-request", [["chat gpt-4o-mini", []]]]]


def test_root_without_parent_joins_the_users_current_span(otel: OTelHarness) -> None:
    t = otel.telemetry()
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("http"):
        t.start("wf", Operation(WF, name="rag"))
    t.start("chat", chat_op(), parent_run_id="wf")  # outside the user span: parent still wf
    t.end("chat")
    t.end("wf")
    assert names(otel.tree()) == [["http", [["invoke_workflow rag", [["chat gpt-4o-mini", []]]]]]]


def test_duplicate_start_and_end_are_ignored(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("a", chat_op())
    t.start("a", chat_op("other"))
    t.end("a")
    t.end("a")
    t.fail("a", ValueError("late"))
    spans = otel.span_dicts()
    assert [s["name"] for s in spans] == ["chat gpt-4o-mini"]
    assert spans[0]["status"] == "UNSET"


def test_end_of_unknown_run_is_a_no_op(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.end("nope")
    t.fail("nope", "x")
    t.chunk("nope")
    t.add_event("nope", "e")
    assert otel.spans() == []


def test_out_of_order_end_parent_before_child(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="w"))
    t.start("step", Operation(OperationKind.STEP, name="s"), parent_run_id="wf")
    t.start("chat", chat_op(), parent_run_id="step")
    t.end("step")  # ends before its child: the child stays open and reachable from the root
    assert t.open_count() == 2
    t.end("chat")
    t.end("wf")
    assert t.open_count() == 0
    tree = otel.tree()
    assert names(tree) == [["invoke_workflow w", [["s", [["chat gpt-4o-mini", []]]]]]]
    assert tree[0]["children"][0]["children"][0]["status"] == "UNSET"


def test_ending_a_root_ends_open_descendants_as_abandoned(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="w"))
    t.start("step", Operation(OperationKind.STEP, name="s"), parent_run_id="wf")
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="search"), parent_run_id="step")
    t.end("step")
    t.end("wf")
    assert t.open_count() == 0
    tree = otel.tree(attributes=(semconv.ERROR_TYPE,))
    tool = tree[0]["children"][0]["children"][0]
    assert tool == {
        "name": "execute_tool search",
        "kind": "INTERNAL",
        "status": "ERROR",
        "attributes": {semconv.ERROR_TYPE: semconv.ERROR_TYPE_ABANDONED},
        "children": [],
    }
    assert otel.metrics()[semconv.METRIC_SPANS_DROPPED][0]["value"] == 1


def test_streaming_inference_outlives_its_root(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("q", Operation(OperationKind.STEP, name="query"))
    t.start("llm", chat_op(request=RequestParams(stream=True)), parent_run_id="q")
    t.end("q")
    assert t.open_count() == 1
    t.chunk("llm")
    t.end("llm")
    tree = otel.tree(attributes=False)
    assert tree == [
        {
            "name": "query",
            "kind": "INTERNAL",
            "status": "UNSET",
            "children": [
                {"name": "chat gpt-4o-mini", "kind": "CLIENT", "status": "UNSET", "children": []}
            ],
        }
    ]


def test_registry_cap_evicts_oldest_as_abandoned(otel: OTelHarness) -> None:
    t = otel.telemetry(registry_max_size=3)
    for i in range(5):
        t.start(i, chat_op())
    assert t.open_count() == 3
    ended = otel.span_dicts()
    assert len(ended) == 2
    assert all(s["attributes"][semconv.ERROR_TYPE] == "abandoned" for s in ended)
    t.shutdown()
    assert t.open_count() == 0
    assert len(otel.spans()) == 5


def test_ttl_sweeps_orphans(otel: OTelHarness) -> None:
    t = otel.telemetry(registry_ttl_seconds=10)
    t.start("old", chat_op())
    otel.clock.advance(11_000_000_000)
    t.start("new", chat_op())  # insertion sweeps expired entries from the old end
    assert not t.is_open("old")
    assert t.is_open("new")
    otel.clock.advance(11_000_000_000)
    assert t.sweep() == 1
    statuses = {s["name"]: s["status"] for s in otel.span_dicts()}
    assert statuses == {"chat gpt-4o-mini": "ERROR"}
    assert len(otel.spans()) == 2


def test_fail_sets_error_status_type_and_exception_event(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op())
    t.fail("c", TimeoutError("too slow"))
    (span,) = otel.span_dicts()
    assert span["status"] == "ERROR"
    assert span["attributes"][semconv.ERROR_TYPE] == "TimeoutError"
    assert span["events"] == ["exception"]
    duration = otel.metrics()[semconv.METRIC_INFERENCE_DURATION]
    assert duration[0]["attributes"][semconv.ERROR_TYPE] == "TimeoutError"


def test_error_type_of_library_exception_is_qualified(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op())
    t.fail("c", asyncio.CancelledError())
    (span,) = otel.span_dicts()
    assert span["attributes"][semconv.ERROR_TYPE] in (
        "asyncio.exceptions.CancelledError",
        "CancelledError",
    )


def test_activate_makes_span_current_and_end_restores(otel: OTelHarness) -> None:
    t = otel.telemetry()
    before = otel_context.get_current()
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="x"), activate=True)
    user = otel.tracer_provider.get_tracer("user").start_span("inside")
    user.end()
    t.end("tool")
    assert otel_context.get_current() is before
    assert names(otel.tree()) == [["execute_tool x", [["inside", []]]]]


def test_end_in_another_context_never_logs_detach_error(otel: OTelHarness) -> None:
    t = otel.telemetry()

    def start() -> None:
        t.start("run", Operation(OperationKind.EXECUTE_TOOL, name="x"), activate=True)

    contextvars.copy_context().run(start)  # started (and activated) in a context that is gone
    t.end("run")  # ended here: nothing to undo, and no "Failed to detach context"
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert t.open_count() == 0


def test_out_of_order_activated_ends_never_resurrect_ended_span(otel: OTelHarness) -> None:
    t = otel.telemetry()
    base = otel_context.get_current()
    t.start("outer", Operation(OperationKind.STEP, name="outer"), activate=True)
    t.start(
        "inner", Operation(OperationKind.STEP, name="inner"), parent_run_id="outer", activate=True
    )
    t.end("outer")  # not current: nothing restored yet; as a root it ends inner too
    assert otel_context.get_current() is base


def test_concurrent_async_runs_make_separate_traces(otel: OTelHarness) -> None:
    t = otel.telemetry()

    async def one(i: int) -> None:
        t.start(("wf", i), Operation(WF, name="rag"), activate=True)
        await asyncio.sleep(0)
        t.start(("chat", i), chat_op(), parent_run_id=("wf", i), activate=True)
        await asyncio.sleep(0)
        t.end(("chat", i))
        await asyncio.sleep(0)
        t.end(("wf", i))

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(50)))

    asyncio.run(main())
    tree = otel.tree(attributes=False)
    assert len(tree) == 50
    assert all(names([r]) == [["invoke_workflow rag", [["chat gpt-4o-mini", []]]]] for r in tree)
    assert len({s["trace_id"] for s in otel.span_dicts()}) == 50
    assert t.open_count() == 0


def test_threads_make_separate_traces(otel: OTelHarness) -> None:
    t = otel.telemetry()

    def worker(n: int) -> None:
        for i in range(5):
            t.start(("wf", n, i), Operation(WF, name="rag"), activate=True)
            t.start(("c", n, i), chat_op(), activate=True)  # parent found via current context
            t.end(("c", n, i))
            t.end(("wf", n, i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    tree = otel.tree(attributes=False)
    assert len(tree) == 40
    assert all(names([r]) == [["invoke_workflow rag", [["chat gpt-4o-mini", []]]]] for r in tree)


def test_link_hides_a_run_but_keeps_nesting(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="w"))
    t.link("hidden", parent_run_id="wf")
    t.start("chat", chat_op(), parent_run_id="hidden")
    t.end("chat")
    t.end("hidden")
    t.end("wf")
    assert names(otel.tree()) == [["invoke_workflow w", [["chat gpt-4o-mini", []]]]]
    assert t.open_count() == 0


def test_hide_internal_spans_setting_links_steps(otel: OTelHarness) -> None:
    t = otel.telemetry(hide_internal_spans=True)
    t.start("wf", Operation(WF, name="w"))
    t.start("seq", Operation(OperationKind.STEP, name="RunnableSequence"), parent_run_id="wf")
    t.start("chat", chat_op(), parent_run_id="seq")
    for r in ("chat", "seq", "wf"):
        t.end(r)
    assert names(otel.tree()) == [["invoke_workflow w", [["chat gpt-4o-mini", []]]]]


def test_streaming_chunks_record_ttfc_and_gaps(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op(request=RequestParams(stream=True)))
    otel.clock.advance(250_000_000)
    t.chunk("c")
    t.chunk("c")
    t.chunk("c")
    t.end("c")
    (span,) = otel.span_dicts()
    assert span["attributes"][semconv.GEN_AI_REQUEST_STREAM] is True
    assert span["attributes"][semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] == 0.251
    m = otel.metrics()
    assert m[semconv.METRIC_INFERENCE_TTFC][0]["count"] == 1
    assert m[semconv.METRIC_INFERENCE_TPOC][0]["count"] == 2
    assert abs(m[semconv.METRIC_INFERENCE_TPOC][0]["sum"] - 0.002) < 1e-9


def test_events_and_attributes_on_open_runs(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op())
    t.add_event("c", semconv.EVENT_RETRY, {semconv.EVENT_RETRY_ATTEMPT: 1})
    t.set_attributes("c", {semconv.LANGGRAPH_NODE: "agent"})
    t.end(
        "c",
        Outcome(response_model="gpt-4o-mini-2024-07-18", response_id="r1", finish_reasons=["stop"]),
    )
    (span,) = otel.span_dicts()
    assert span["events"] == [semconv.EVENT_RETRY]
    a = span["attributes"]
    assert a[semconv.LANGGRAPH_NODE] == "agent"
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert a[semconv.GEN_AI_RESPONSE_ID] == "r1"
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]


def test_broken_operation_never_raises(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("x", None)  # type: ignore[arg-type]
    t.end("x", "not an outcome")  # type: ignore[arg-type]
    t.start("y", chat_op(), parent_run_id=["unhashable"])  # type: ignore[arg-type]
    assert t.open_count() in (0, 1)
    t.shutdown()
    assert t.open_count() == 0


def test_async_end_in_a_shielded_copy_leaves_the_callers_context_as_it_was(
    otel: OTelHarness,
) -> None:
    """LangChain ends async runs inside ``asyncio.shield`` (a copy of the start context): the
    activation made in the caller's task must not outlive the run there."""
    t = otel.telemetry()

    async def main() -> tuple[bool, object]:
        before = otel_context.get_current()
        t.start("root", Operation(WF, name="rag"), activate=True)
        t.start("chat", chat_op(), parent_run_id="root", activate=True)

        async def end(run: str) -> None:
            t.end(run)

        await asyncio.shield(end("chat"))
        await asyncio.shield(end("root"))
        return otel_context.get_current() is before, trace.get_current_span()

    restored, current = asyncio.run(main())
    assert restored
    assert current is trace.INVALID_SPAN
    assert t.open_count() == 0


def test_async_activation_nests_user_spans_where_the_task_context_is_reachable(
    otel: OTelHarness,
) -> None:
    from genai_trace_core.lifecycle import _context

    t = otel.telemetry()
    tracer = otel.tracer_provider.get_tracer("user")

    async def main() -> None:
        t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="x"), activate=True)
        tracer.start_span("inside").end()

        async def end() -> None:
            t.end("tool")

        await asyncio.shield(end())
        tracer.start_span("after").end()

    asyncio.run(main())
    tree = names(otel.tree())
    if _context.CAN_UNDO_IN_TASK:  # Python 3.12+
        assert tree == [["execute_tool x", [["inside", []]]], ["after", []]]
    else:  # 3.10/3.11: a root started in a task is not activated, so nothing can leak
        assert tree == [["execute_tool x", []], ["inside", []], ["after", []]]
