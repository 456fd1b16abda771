"""``TaskEnds``: a watched root run ends with its asyncio task when the framework reports no end;
a run that ended as reported stops being watched; the number watched at once is bounded."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import context

from genai_trace_core import Operation, OperationKind, TaskEnds, semconv
from genai_trace_core.lifecycle import _task_ends
from genai_trace_core.testing import OTelHarness


def _chat() -> Operation:
    return Operation(OperationKind.CHAT, request_model="gpt-4o-mini", provider="openai")


def test_runs_left_open_by_a_cancelled_task_end_with_it_up_to_the_bound(
    otel: OTelHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_task_ends, "MAX_WATCHED", 2)
    tel = otel.telemetry()
    ends = TaskEnds(tel)

    async def calls() -> None:
        tel.start("reported", _chat(), root=True)
        ends.watch("reported")
        ends.forget("reported")  # the framework reported its end: no longer watched
        tel.end("reported")
        for run_id in ("a", "b", "c"):
            tel.start(run_id, _chat(), root=True)
            ends.watch(run_id)
        await asyncio.sleep(10)  # cancelled here, as an awaited model call would be

    async def main() -> None:
        task = asyncio.create_task(calls())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)  # the done callbacks run on the loop's next turn

    asyncio.run(main())
    assert [s.name for s in otel.spans()] == ["chat gpt-4o-mini"] * 3
    errors = sorted(str((s.attributes or {}).get(semconv.ERROR_TYPE)) for s in otel.spans())
    assert errors == ["None", semconv.ERROR_TYPE_CANCELLED, semconv.ERROR_TYPE_CANCELLED]
    assert tel.is_open("c") and tel.open_count() == 1  # past the bound: left to the TTL
    tel.shutdown()


def test_left_current_names_only_the_runs_a_call_left_current_on_what_it_began_with(
    otel: OTelHarness,
) -> None:
    tel = otel.telemetry()
    ends = TaskEnds(tel)
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request"):
        before = context.get_current()
        assert ends.left_current(before) == ()  # nothing left: nothing named
        tel.start("workflow", Operation(OperationKind.INVOKE_WORKFLOW), activate=True, root=True)
        inside = context.get_current()
        tel.start("chat", _chat(), parent_run_id="workflow", activate=True)
        assert ends.left_current(inside) == ("chat",)  # the step's own run is not the call's
        assert ends.left_current(before) == ("chat", "workflow")  # innermost first
        with tracer.start_as_current_span("not ours"):  # something else on top: left alone
            assert ends.left_current(before) == ()
        for run_id in ends.left_current(before):
            tel.fail(run_id, semconv.ERROR_TYPE_CANCELLED)
        assert context.get_current() is before  # ending them restored the caller's context
    assert tel.open_count() == 0
    assert sorted(s.name for s in otel.spans()) == [
        "chat gpt-4o-mini",
        "invoke_workflow",
        "not ours",
        "request",
    ]
