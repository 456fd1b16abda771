"""The open-run registry's bounds evict idle runs, and what they evict never lands in another
request's trace: the TTL counts idle time (a request that keeps working stays open), the size cap
evicts the runs idle the longest first, an evicted run's late children nest under its ended span
(its late end is ignored), a hidden run's alias is dropped without ending its traced run, and the
first eviction logs one warning naming the bound. Until 2026-12-07 runs were evicted by age and
forgotten: their later steps joined whatever context was current."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any

import pytest

from genai_trace_core import Operation, OperationKind, RequestParams, _safe, semconv
from genai_trace_core.lifecycle._registry import MAX_RETIRED, MAX_SKIPS, BoundedRegistry
from genai_trace_core.testing import OTelHarness

S = 1_000_000_000  # one second, in the harness clock's nanoseconds
WF = OperationKind.INVOKE_WORKFLOW


def wf(name: str) -> Operation:
    return Operation(WF, name=name)


def step(name: str = "s") -> Operation:
    return Operation(OperationKind.STEP, name=name)


def chat(stream: bool = False) -> Operation:
    return Operation(
        OperationKind.CHAT,
        provider="openai",
        request_model="gpt-4o-mini",
        request=RequestParams(stream=stream),
    )


def outcomes(otel: OTelHarness) -> dict[str, tuple[str, Any]]:
    """``{span name: (status, error.type)}`` of every ended span (names are unique here)."""
    out = {}
    for s in otel.spans():
        assert s.name not in out, f"{s.name} ended twice"
        out[s.name] = (s.status.status_code.name, (s.attributes or {}).get(semconv.ERROR_TYPE))
    return out


def span(otel: OTelHarness, name: str) -> Any:
    (found,) = [s for s in otel.spans() if s.name == name]
    return found


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    _safe._logged.clear()


def test_the_ttl_counts_idle_time_not_age(otel: OTelHarness) -> None:
    t = otel.telemetry(registry_ttl_seconds=10)
    t.start("wf", wf("long"))
    otel.clock.advance(6 * S)
    t.start("step", step(), parent_run_id="wf")
    otel.clock.advance(2 * S)
    t.end("step")  # the request was active 8 s in
    otel.clock.advance(7 * S)
    t.start("other", wf("other"))  # 15 s old, idle 7 s: kept
    assert t.is_open("wf")
    otel.clock.advance(6 * S)
    t.start("third", wf("third"))  # idle 13 s: evicted
    assert not t.is_open("wf")
    assert outcomes(otel) == {"s": ("UNSET", None), "invoke_workflow long": ("ERROR", "abandoned")}


def test_an_open_descendant_started_within_the_ttl_keeps_its_request(otel: OTelHarness) -> None:
    t = otel.telemetry(registry_ttl_seconds=10)
    t.start("wf", wf("long"))
    otel.clock.advance(6 * S)
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="search"), parent_run_id="wf")
    otel.clock.advance(9 * S)
    t.start("other", wf("other"))
    assert t.is_open("wf") and t.is_open("tool")
    t.end("tool")
    t.end("wf")
    otel.clock.advance(30 * S)
    assert t.sweep() == 1  # "other", idle since it started
    assert outcomes(otel) == {
        "execute_tool search": ("UNSET", None),
        "invoke_workflow long": ("UNSET", None),
        "invoke_workflow other": ("ERROR", "abandoned"),
    }


def test_a_stream_receiving_chunks_is_not_idle(otel: OTelHarness) -> None:
    t = otel.telemetry(registry_ttl_seconds=10)
    t.start("c", chat(stream=True))
    for i in range(6):
        otel.clock.advance(4 * S)
        t.chunk("c")
        t.start(f"other{i}", wf(f"other{i}"))  # each put checks the oldest entry
        assert t.is_open("c")
    t.end("c")
    assert outcomes(otel)["chat gpt-4o-mini"] == ("UNSET", None)


def test_at_the_size_cap_the_run_idle_the_longest_goes_first(otel: OTelHarness) -> None:
    t = otel.telemetry(registry_max_size=3)
    t.start("busy", wf("busy"))
    t.start("idle", wf("idle"))
    t.start("step", step(), parent_run_id="busy")
    t.end("step")  # "busy" was active since it was stored; "idle" was not
    t.start("new", wf("new"))
    t.start("newer", wf("newer"))
    assert t.is_open("busy") and not t.is_open("idle")
    assert outcomes(otel) == {"s": ("UNSET", None), "invoke_workflow idle": ("ERROR", "abandoned")}


def test_an_evicted_runs_late_child_nests_under_it_and_its_late_end_is_ignored(
    otel: OTelHarness,
) -> None:
    t = otel.telemetry(registry_max_size=1)
    t.start("r1", wf("r1"))
    t.start("r2", wf("r2"))  # evicts r1
    t.end("r2")
    t.start("late", chat(), parent_run_id="r1")  # r1's next step, after its eviction
    t.end("late")
    t.end("r1")  # ignored: ended once, as abandoned
    t.fail("r1", ValueError("late"))
    assert outcomes(otel) == {
        "invoke_workflow r1": ("ERROR", "abandoned"),
        "invoke_workflow r2": ("UNSET", None),
        "chat gpt-4o-mini": ("UNSET", None),
    }
    r1, late = span(otel, "invoke_workflow r1"), span(otel, "chat gpt-4o-mini")
    assert late.parent is not None
    assert (late.context.trace_id, late.parent.span_id) == (r1.context.trace_id, r1.context.span_id)
    assert [p["value"] for p in otel.metrics()[semconv.METRIC_SPANS_DROPPED]] == [1]
    durations = otel.metrics()[semconv.METRIC_INVOCATION_DURATION]
    assert sum(p["count"] for p in durations) == 2  # r1 once, r2 once


def test_evicting_a_hidden_runs_alias_keeps_its_traced_run(otel: OTelHarness) -> None:
    t = otel.telemetry(registry_max_size=3, hide_internal_spans=True)
    t.start("wf", wf("w"))
    t.start("c1", chat(), parent_run_id="wf")
    t.end("c1")
    t.start("hidden", step(), parent_run_id="wf")  # no span: an alias of "wf"
    t.start("r2", wf("r2"))
    t.start("r3", wf("r3"))  # full: "wf" was active since stored, its alias was not
    assert t.is_open("wf") and not t.is_open("hidden")
    t.start("c2", chat(), parent_run_id="hidden")
    t.end("c2")
    t.end("wf")
    w = span(otel, "invoke_workflow w")
    assert w.status.status_code.name == "UNSET"
    c2 = [s for s in otel.spans() if s.name == "chat gpt-4o-mini"][-1]
    assert c2.parent is not None
    assert (c2.context.trace_id, c2.parent.span_id) == (w.context.trace_id, w.context.span_id)


def test_the_first_eviction_warns_once_naming_the_bound(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture
) -> None:
    t = otel.telemetry(registry_max_size=1)
    for i in range(4):
        t.start(i, wf(str(i)))
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "genai_trace"
    assert "GENAI_TRACE_REGISTRY_MAX_SIZE=1 reached" in warning.getMessage()
    assert "raise GENAI_TRACE_REGISTRY_MAX_SIZE / _TTL_SECONDS" in warning.getMessage()


def test_a_ttl_eviction_warning_names_the_ttl(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture
) -> None:
    t = otel.telemetry(registry_ttl_seconds=0.5)
    t.start("a", wf("a"))
    otel.clock.advance(S)
    assert t.sweep() == 1
    t.start("b", wf("b"))
    otel.clock.advance(S)
    t.start("c", wf("c"))  # evicts "b": no second warning
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "idle longer than GENAI_TRACE_REGISTRY_TTL_SECONDS=0.5" in warnings[0]


# --- the registry's rules, on plain values ------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def registry(
    activity: dict[int, float], *, max_size: int = 1000, ttl_s: float = 1e9
) -> tuple[BoundedRegistry[int], Clock, list[Hashable]]:
    clock, evicted = Clock(), []
    reg: BoundedRegistry[int] = BoundedRegistry(
        max_size=max_size,
        ttl_s=ttl_s,
        clock=clock,
        on_evict=lambda key, value: evicted.append(key),
        activity=lambda value: activity.get(value, -1.0),
    )
    return reg, clock, evicted


def test_second_chances_at_the_cap_are_bounded_per_put() -> None:
    active = {i: 0.5 for i in range(100)}  # every entry active since it was stored (at 0)
    reg, _, evicted = registry(active, max_size=100)
    for i in range(100):
        reg.put_if_absent(i, i)
    reg.put_if_absent(100, 100)
    assert evicted == [MAX_SKIPS]  # the first MAX_SKIPS got a second chance, the next went
    assert len(reg) == 100
    assert list(reg._items)[-MAX_SKIPS - 1 : -1] == list(range(MAX_SKIPS))


def test_ttl_refreshes_are_bounded_per_put_and_stamped_with_the_activity() -> None:
    active = {i: 15.0 for i in range(100)}
    reg, clock, evicted = registry(active, ttl_s=10)
    for i in range(100):
        reg.put_if_absent(i, i)  # stored at 0
    clock.now = 20.0  # all past the TTL, all active 5 s ago
    reg.put_if_absent("a", -1)
    assert evicted == [] and len(reg) == 101
    assert [reg._items[i][0] for i in range(MAX_SKIPS)] == [15.0] * MAX_SKIPS
    assert reg._items[MAX_SKIPS][0] == 0.0  # the rest waits for the next put
    reg.put_if_absent("b", -1)
    assert evicted == [] and {stored for stored, _ in reg._items.values()} == {15.0, 20.0}
    clock.now = 26.0
    assert reg.sweep() == 100
    assert sorted(evicted, key=str) == sorted(range(100), key=str)


def test_evictions_go_on_when_one_on_evict_fails() -> None:
    ended: list[Hashable] = []

    def on_evict(key: Hashable, value: int) -> None:
        if key == 0:
            raise RuntimeError("boom")
        ended.append(key)

    reg: BoundedRegistry[int] = BoundedRegistry(
        max_size=10, ttl_s=1.0, clock=lambda: 0.0, on_evict=on_evict
    )
    for i in range(3):
        reg.put_if_absent(i, i, now=0.0)
    assert reg.sweep(now=5.0) == 3
    assert ended == [1, 2]


def test_the_registry_remembers_as_many_retired_runs_as_it_holds_open_ones() -> None:
    small, _, _ = registry({}, max_size=10)
    big, _, _ = registry({}, max_size=MAX_RETIRED * 2)
    for reg in (small, big):
        for i in range(MAX_RETIRED * 3):
            reg.retire(i, f"ctx{i}")
    assert small.retired(MAX_RETIRED * 2 - 1) is None
    assert small.retired(MAX_RETIRED * 2) == f"ctx{MAX_RETIRED * 2}"
    assert big.retired(MAX_RETIRED) == f"ctx{MAX_RETIRED}"
    assert big.retired(MAX_RETIRED - 1) is None
