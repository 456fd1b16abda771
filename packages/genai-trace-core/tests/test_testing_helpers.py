from __future__ import annotations

from typing import Any

from genai_trace_core.testing import OTelHarness, tree_shape


def _node(name: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "kind": "INTERNAL", "status": "UNSET", "children": list(children)}


def _workflow(first: str, second: str) -> list[dict[str, Any]]:
    """A workflow whose parallel step's branches started in the given order, then a chat."""
    parallel = _node("RunnableParallel<a,b>", _node(first), _node(second))
    return [_node("workflow", parallel, _node("chat"))]


def test_tree_shape_lists_children_of_unordered_nodes_in_name_order_whatever_started_first() -> (
    None
):
    one = tree_shape(
        _workflow("b-branch", "a-branch"), kind=False, status=False, unordered=("Run",)
    )
    other = tree_shape(
        _workflow("a-branch", "b-branch"), kind=False, status=False, unordered=("Run",)
    )
    expected = [
        [
            "workflow",
            [["RunnableParallel<a,b>", [["a-branch", []], ["b-branch", []]]], ["chat", []]],
        ]
    ]
    assert one == other == expected


def test_tree_shape_keeps_start_order_outside_unordered_nodes() -> None:
    nodes = [_node("workflow", _node("z-step"), _node("a-step"))]
    assert tree_shape(nodes, kind=False, status=False, unordered=("Run",)) == [
        ["workflow", [["z-step", []], ["a-step", []]]]
    ]
    flipped = tree_shape(_workflow("b-branch", "a-branch"), kind=False, status=False)
    assert flipped[0][1][0][1] == [["b-branch", []], ["a-branch", []]]


def _parallel_trace(otel: OTelHarness, first: str, second: str) -> list[dict[str, Any]]:
    """A root whose concurrent branches start in the given order, one failing, and a late child."""
    tracer = otel.tracer_provider.get_tracer("t")
    otel.clear()
    with tracer.start_as_current_span("RunnableParallel<a,b>") as root:
        root.set_attribute("cost", 0.1 + 0.2)  # 0.30000000000000004
        for name in (first, second):
            with tracer.start_as_current_span(name) as branch:
                branch.set_attribute("tags", ("x", "y"))
                branch.set_attribute("json", '{"k": [1, 2]}')
        with tracer.start_as_current_span("late"):
            pass
    with tracer.start_as_current_span("second root") as other:
        try:
            raise ValueError("boom")
        except ValueError as exc:
            other.record_exception(exc)
    return otel.snapshot_dicts(unordered=("RunnableParallel",))


def test_snapshot_dicts_orders_depth_first_with_parent_indexes_and_normalises_values(
    otel: OTelHarness,
) -> None:
    spans = _parallel_trace(otel, "b-branch", "a-branch")
    assert spans == _parallel_trace(otel, "a-branch", "b-branch")  # branch start order is lost
    branch = {"tags": ["x", "y"], "json": {"k": [1, 2]}}
    assert [(s["name"], s["parent"], s["attributes"]) for s in spans] == [
        ("RunnableParallel<a,b>", None, {"cost": 0.3}),
        ("a-branch", 0, branch),
        ("b-branch", 0, branch),
        ("late", 0, {}),
        ("second root", None, {}),
    ]
    [event] = spans[4]["events"]
    assert event["attributes"]["exception.stacktrace"] == "... ValueError: boom"
    assert event["attributes"]["exception.type"] == "ValueError"
    assert all("events" not in s for s in spans[:4])
    assert {s["kind"] for s in spans} == {"INTERNAL"}
