"""Every span that starts ends, once: duplicates and unknown runs are ignored, open descendants
of an ended root, evicted and expired runs end as abandoned, broken input never raises."""

from __future__ import annotations

from inline_snapshot import snapshot

from genai_trace_core import Operation, OperationKind, semconv
from genai_trace_core.testing import OTelHarness

WF = OperationKind.INVOKE_WORKFLOW
CHAT = OperationKind.CHAT


def chat_op(model: str = "gpt-4o-mini", **kw: object) -> Operation:
    return Operation(CHAT, provider="openai", request_model=model, **kw)  # type: ignore[arg-type]


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


def test_ending_a_root_ends_open_descendants_as_abandoned(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="w"))
    t.start("step", Operation(OperationKind.STEP, name="s"), parent_run_id="wf")
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="search"), parent_run_id="step")
    t.end("step")
    t.end("wf")
    assert t.open_count() == 0
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow w",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "w",
                },
            },
            {
                "name": "s",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {"genai_trace.run.name": "s"},
            },
            {
                "name": "execute_tool search",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "ERROR",
                "attributes": {
                    "error.type": "abandoned",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "search",
                    "gen_ai.tool.type": "function",
                },
                "status_description": "abandoned",
            },
        ]
    )
    assert otel.metrics()[semconv.METRIC_SPANS_DROPPED][0]["value"] == 1


def test_a_root_ending_with_descendants_ends_them_successfully(otel: OTelHarness) -> None:
    """A cancellation the framework reports on the root before its running step: the step and
    what it started end with the root, not as abandoned; a stream still being read stays open."""
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="w"))
    t.start("step", Operation(OperationKind.STEP, name="s"), parent_run_id="wf")
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="search"), parent_run_id="step")
    t.start("stream", chat_op(), parent_run_id="wf")
    t.chunk("stream")
    t.end("wf", with_descendants=True)
    ended = otel.span_dicts()
    assert [(s["name"], s["status"]) for s in ended] == [
        ("invoke_workflow w", "UNSET"),
        ("s", "UNSET"),
        ("execute_tool search", "UNSET"),
    ]
    assert all(semconv.ERROR_TYPE not in s["attributes"] for s in ended)
    assert t.is_open("stream")  # a stream consumed after its caller returned ends on its own
    t.end("stream")
    assert t.open_count() == 0
    assert semconv.METRIC_SPANS_DROPPED not in otel.metrics()


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


def test_broken_operation_never_raises(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("x", None)  # type: ignore[arg-type]
    t.end("x", "not an outcome")  # type: ignore[arg-type]
    t.start("y", chat_op(), parent_run_id=["unhashable"])  # type: ignore[arg-type]
    assert t.open_count() in (0, 1)
    t.shutdown()
    assert t.open_count() == 0
