"""``Telemetry.root_of``: the run id of the top run above an open run, through linked (hidden)
runs and past parents that ended first; ``None`` for a run that is unknown, ended or nested deeper
than the bounded walk."""

from __future__ import annotations

from genai_trace_core import Operation, OperationKind
from genai_trace_core.testing import OTelHarness

WF = OperationKind.INVOKE_WORKFLOW
CHAT = OperationKind.CHAT


def _chat() -> Operation:
    return Operation(CHAT, provider="openai", request_model="gpt-4o-mini")


def test_every_open_run_of_a_tree_has_its_root(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("root", Operation(WF, name="qa"))
    t.start("step", Operation(OperationKind.STEP, name="prompt"), parent_run_id="root")
    t.start("chat", _chat(), parent_run_id="step")
    t.start("other", Operation(WF, name="other"))
    assert [t.root_of(r) for r in ("root", "step", "chat", "other")] == [
        "root",
        "root",
        "root",
        "other",
    ]
    t.end("chat")
    t.end("step")
    t.end("root")
    t.end("other")
    assert t.open_count() == 0


def test_unknown_and_ended_runs_have_none(otel: OTelHarness) -> None:
    t = otel.telemetry()
    assert t.root_of("nope") is None
    t.start("root", Operation(WF, name="qa"))
    t.end("root")
    assert t.root_of("root") is None


def test_linked_runs_resolve_to_the_root_of_their_traced_ancestor(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("root", Operation(WF, name="qa"))
    t.link("hidden", parent_run_id="root")  # no span: an alias of the root's run
    t.start("chat", _chat(), parent_run_id="hidden")
    t.link("top")  # a linked root: no span, no parent run
    t.start("under-top", _chat(), parent_run_id="top")
    assert [t.root_of(r) for r in ("hidden", "chat", "top", "under-top")] == [
        "root",
        "root",
        "top",
        "top",
    ]
    for run_id in ("chat", "hidden", "root", "under-top", "top"):
        t.end(run_id)
    assert t.open_count() == 0
    assert [s["name"] for s in otel.span_dicts()] == [
        "chat gpt-4o-mini",
        "invoke_workflow qa",
        "chat gpt-4o-mini",
    ]


def test_a_run_whose_parent_ended_first_keeps_its_root(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("root", Operation(WF, name="qa"))
    t.start("step", Operation(OperationKind.STEP, name="s"), parent_run_id="root")
    t.start("chat", _chat(), parent_run_id="step")
    t.end("step")  # out of order: the call is still open under the root
    assert t.root_of("chat") == "root"
    t.end("chat")
    t.end("root")


def test_the_walk_up_is_bounded(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start(0, Operation(WF, name="deep"))
    for i in range(1, 257):
        t.start(i, Operation(OperationKind.STEP, name=f"s{i}"), parent_run_id=i - 1)
    assert t.root_of(255) == 0  # 256 runs deep: found
    assert t.root_of(256) is None  # one deeper than the walk goes
    t.end(0, with_descendants=True)
    assert t.open_count() == 0
