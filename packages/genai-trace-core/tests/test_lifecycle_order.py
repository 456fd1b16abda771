"""Runs ending out of order: a parent that ends before its children never strands them."""

from __future__ import annotations

import contextvars

from genai_trace_core import Operation, OperationKind, semconv
from genai_trace_core.testing import OTelHarness

WF = OperationKind.INVOKE_WORKFLOW
STEP = OperationKind.STEP
TOOL = OperationKind.EXECUTE_TOOL


def _statuses(nodes: list[dict[str, object]]) -> list[object]:
    return [
        [n["name"], n["status"], n["attributes"], _statuses(n["children"])]  # type: ignore[arg-type]
        for n in nodes
    ]


def test_grandchildren_of_a_run_whose_parent_ended_first_end_with_the_root(
    otel: OTelHarness,
) -> None:
    t = otel.telemetry()
    t.start("root", Operation(WF, name="root"))
    t.start("p", Operation(STEP, name="p"), parent_run_id="root")
    t.start("r", Operation(STEP, name="r"), parent_run_id="p")
    t.start("c", Operation(TOOL, name="c"), parent_run_id="r")
    t.end("p")  # the parent ends before its child r (root still open)
    t.end("r")  # r ends before its child c: c must stay reachable from the root
    assert t.open_count() == 2
    t.end("root")
    assert t.open_count() == 0
    abandoned = {semconv.ERROR_TYPE: semconv.ERROR_TYPE_ABANDONED}
    assert _statuses(otel.tree(attributes=(semconv.ERROR_TYPE,))) == [
        [
            "invoke_workflow root",
            "UNSET",
            {},
            [
                [
                    "p",
                    "UNSET",
                    {},
                    [["r", "UNSET", {}, [["execute_tool c", "ERROR", abandoned, []]]]],
                ]
            ],
        ]
    ]


def test_a_chain_of_parents_ending_first_leaves_nothing_open(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start(0, Operation(WF, name="root"))
    for i in range(1, 8):
        t.start(i, Operation(STEP, name=f"s{i}"), parent_run_id=i - 1)
    for i in range(1, 7):  # every run but the deepest ends before its child, top-down
        t.end(i)
    assert t.open_count() == 2
    t.end(0)
    assert t.open_count() == 0
    spans = otel.spans()
    assert len(spans) == 8  # finished spans only: all eight ended
    deepest = next(s for s in spans if s.name == "s7")
    assert deepest.attributes is not None
    assert deepest.attributes[semconv.ERROR_TYPE] == semconv.ERROR_TYPE_ABANDONED


# --- framework roots: siblings in one execution context, nested in another --------------------


def _trace_ids(otel: OTelHarness) -> dict[str, int]:
    return {s.name: s.context.trace_id for s in otel.spans()}


def test_roots_started_together_in_one_context_are_separate_traces(otel: OTelHarness) -> None:
    t = otel.telemetry()
    for i in range(4):  # a framework's batch: every root starts before any runs
        t.start(i, Operation(WF, name=f"item{i}"), activate=True, root=True)
    for i in range(4):
        t.start(f"c{i}", Operation(STEP, name=f"step{i}"), parent_run_id=i, activate=True)
        t.end(f"c{i}")
    for i in (2, 0, 3, 1):  # any end order
        t.end(i)
    ids = _trace_ids(otel)
    assert len({ids[f"invoke_workflow item{i}"] for i in range(4)}) == 4
    assert all(ids[f"step{i}"] == ids[f"invoke_workflow item{i}"] for i in range(4))
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("next") as nxt:  # the context is left as it was
        assert nxt.get_span_context().trace_id not in set(ids.values())
    assert t.open_count() == 0


def test_a_root_started_in_a_copy_of_a_roots_context_nests_under_it(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("outer", Operation(WF, name="outer"), activate=True, root=True)
    ctx = contextvars.copy_context()  # the framework runs the root's work in a copy
    ctx.run(t.start, "inner", Operation(WF, name="inner"), activate=True, root=True)
    ctx.run(t.end, "inner")
    t.end("outer")
    assert [[n["name"], [c["name"] for c in n["children"]]] for n in otel.tree()] == [
        ["invoke_workflow outer", ["invoke_workflow inner"]]
    ]


def test_without_root_a_run_nests_under_the_current_activation(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("a", Operation(WF, name="a"), activate=True)
    t.start("b", Operation(WF, name="b"), activate=True)  # e.g. an embeddings call inside
    t.end("b")
    t.end("a")
    assert [[n["name"], [c["name"] for c in n["children"]]] for n in otel.tree()] == [
        ["invoke_workflow a", ["invoke_workflow b"]]
    ]


def test_a_run_already_traced_by_another_telemetry_gets_no_second_span(otel: OTelHarness) -> None:
    first, second = otel.telemetry(), otel.telemetry()
    op = Operation(OperationKind.CHAT, provider="openai", request_model="m")
    first.start("run", op, activate=True)
    second.start("run", op, activate=True)  # a second handler on the same framework run
    second.end("run")
    first.end("run")
    assert [s.name for s in otel.spans()] == ["chat m"]
    assert first.open_count() == second.open_count() == 0
