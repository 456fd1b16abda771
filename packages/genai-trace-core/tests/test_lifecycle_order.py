"""Runs ending out of order: a parent that ends before its children never strands them."""

from __future__ import annotations

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
