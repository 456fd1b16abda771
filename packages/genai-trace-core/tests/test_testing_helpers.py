from __future__ import annotations

from typing import Any

from genai_trace_core.testing import tree_shape


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
