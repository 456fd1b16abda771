"""Context hygiene: activation makes a run current and its end restores the context, in any
order, thread or asyncio task; concurrent runs make separate traces."""

from __future__ import annotations

import asyncio
import contextvars
import threading

from inline_snapshot import snapshot
from opentelemetry import context as otel_context
from opentelemetry import trace

from genai_trace_core import Operation, OperationKind, RequestParams
from genai_trace_core.lifecycle import CAN_UNDO_IN_TASK
from genai_trace_core.testing import OTelHarness

WF = OperationKind.INVOKE_WORKFLOW
CHAT = OperationKind.CHAT


def chat_op(model: str = "gpt-4o-mini", **kw: object) -> Operation:
    return Operation(CHAT, provider="openai", request_model=model, **kw)  # type: ignore[arg-type]


def names(tree: list[dict[str, object]]) -> list[object]:
    return [[n["name"], names(n["children"])] for n in tree]  # type: ignore[arg-type]


def test_activate_makes_span_current_and_end_restores(otel: OTelHarness) -> None:
    t = otel.telemetry()
    before = otel_context.get_current()
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="x"), activate=True)
    user = otel.tracer_provider.get_tracer("user").start_span("inside")
    user.end()
    t.end("tool")
    assert otel_context.get_current() is before
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "execute_tool x",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "x",
                    "gen_ai.tool.type": "function",
                },
            },
            {
                "name": "inside",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )


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
        after = otel_context.get_current()
        # 3.12+ re-attaches the very context; 3.10/3.11 turn ours back into an equal one in place
        same = (after is before) if CAN_UNDO_IN_TASK else (after == before)
        return same, trace.get_current_span()

    restored, current = asyncio.run(main())
    assert restored
    assert current is trace.INVALID_SPAN
    assert t.open_count() == 0


def test_async_activation_nests_user_spans_where_the_task_context_is_reachable(
    otel: OTelHarness,
) -> None:
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
    spans = otel.snapshot_dicts()
    # Python 3.12+ undoes the activation inside the task; 3.10/3.11 turn it, in place, into the
    # context it replaced: either way the user's span after the end is a root.
    assert spans == snapshot(
        [
            {
                "name": "execute_tool x",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "x",
                    "gen_ai.tool.type": "function",
                },
            },
            {
                "name": "inside",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {},
            },
            {
                "name": "after",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )


def test_ended_runs_are_freed_by_reference_counting_not_the_garbage_collector(
    otel: OTelHarness,
) -> None:
    """An ended run is in no reference cycle (with its activation context, its parent or its
    root's execution context), so a traced call leaves no garbage for the collector."""
    import gc

    from genai_trace_core.lifecycle._run import Run

    t = otel.telemetry()

    def call(i: int) -> None:
        t.start(("wf", i), Operation(WF, name="wf"), activate=True, root=True)
        t.start(("chat", i), chat_op(), parent_run_id=("wf", i), activate=True)
        t.end(("chat", i))
        t.end(("wf", i))

    call(0)  # first-call caches out of the way
    gc.collect()
    gc.disable()
    try:
        call(1)
        worker = threading.Thread(target=call, args=(2,))  # a thread of its own
        worker.start()
        worker.join()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, Run)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert len(otel.spans()) == 6
    assert cyclic == []


def test_a_stream_handed_to_another_thread_leaves_its_callers_context_when_its_parent_ends(
    otel: OTelHarness,
) -> None:
    """A stream started (and made current) inside a run, then read and ended in another thread
    (a chat engine's history thread): the run's end restores its caller's context here, the
    stream's span with it; a span the user opened inside the stream's activation is kept."""
    t = otel.telemetry()
    before = otel_context.get_current()
    t.start("engine", Operation(WF, name="engine"), activate=True, root=True)
    stream = RequestParams(stream=True)  # a stream outlives its caller: never abandoned with it
    t.start("chat", chat_op(request=stream), parent_run_id="engine", activate=True)
    reader = contextvars.copy_context()  # the thread that reads the stream copies this context
    t.end("engine")
    assert otel_context.get_current() is before
    reader.run(t.end, "chat")
    assert otel_context.get_current() is before
    with otel.tracer_provider.get_tracer("user").start_as_current_span("after") as after:
        assert not after.parent

    t.start("engine2", Operation(WF, name="engine2"), activate=True, root=True)
    t.start("chat2", chat_op(request=stream), parent_run_id="engine2", activate=True)
    with otel.tracer_provider.get_tracer("user").start_as_current_span("user") as user:
        t.end("engine2")  # a live span that is not ours is current: left alone
        assert trace.get_current_span() is user
    t.end("chat2")
    assert otel_context.get_current() is before
    assert sorted(names(otel.tree(attributes=False)), key=str) == [  # user spans: a real clock
        ["after", []],
        ["invoke_workflow engine", [["chat gpt-4o-mini", []]]],
        ["invoke_workflow engine2", [["chat gpt-4o-mini", [["user", []]]]]],
    ]
