"""In-process budgets: spend per user/tenant/feature fed by the lifecycle's cost, one warning
event and callback per crossed budget and window, thread-safe, bounded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from genai_trace_core import (
    Budget,
    BudgetExceeded,
    BudgetTracker,
    Operation,
    OperationKind,
    Outcome,
    attribution,
    clear_prices,
    semconv,
    set_price,
)
from genai_trace_core import _budget as budget_module
from genai_trace_core.testing import OTelHarness

MODEL = "budget-test-model"  # $1 per 1k input tokens, $2 per 1k output tokens


@pytest.fixture(autouse=True)
def _price() -> Iterator[None]:
    set_price(MODEL, input_per_mtok=1000.0, output_per_mtok=2000.0)
    yield
    clear_prices()
    assert budget_module.listeners == ()  # every test uninstalls its tracker


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _chat(otel_tel: Any, run_id: str, input_tokens: int, output_tokens: int) -> None:
    otel_tel.start(run_id, Operation(OperationKind.CHAT, provider="openai", request_model=MODEL))
    usage = {"prompt_tokens": input_tokens, "completion_tokens": output_tokens}
    otel_tel.end(run_id, Outcome(raw_usage=usage, response_model=MODEL))


def test_a_tenant_crossing_its_daily_budget_gets_one_warning_linked_to_the_crossing_span(
    otel: OTelHarness,
) -> None:
    seen: list[BudgetExceeded] = []
    daily = Budget(2.5, window="day", scope="tenant")
    tracker = BudgetTracker(
        [daily], on_exceeded=seen.append, logger_provider=otel.logger_provider, clock=Clock()
    ).install()
    tel = otel.telemetry()
    try:
        with attribution(tenant_id="acme", user_id="u1"):
            _chat(tel, "a", 1000, 0)  # $1
            _chat(tel, "b", 500, 500)  # $1.50: total $2.50, not over
            _chat(tel, "c", 0, 250)  # $0.50: $3.00 crosses
            _chat(tel, "d", 1000, 0)  # $1: still over, no second warning
        with attribution(tenant_id="globex"):
            _chat(tel, "e", 2000, 0)  # another tenant: its own $2
    finally:
        tracker.uninstall()
    assert tracker.spent(daily, "acme") == pytest.approx(4.0)
    assert tracker.spent(daily, "globex") == pytest.approx(2.0)
    assert [(e.budget, e.key, round(e.spent_usd, 9), e.window_start) for e in seen] == [
        (daily, "acme", 3.0, 1_699_920_000.0)
    ]
    [record] = otel.logs()
    [crossing] = [s for s in otel.span_dicts() if s["attributes"][semconv.COST_USD] == 0.5]
    assert (f"{record.trace_id:032x}", f"{record.span_id:016x}") == (
        crossing["trace_id"],
        crossing["span_id"],
    )
    assert record.event_name == semconv.EVENT_BUDGET_EXCEEDED
    assert record.severity_number.name == "WARN"
    assert dict(record.attributes) == {
        semconv.BUDGET_NAME: "tenant:*:day",
        semconv.BUDGET_SCOPE: "tenant",
        semconv.BUDGET_WINDOW: "day",
        semconv.BUDGET_LIMIT_USD: 2.5,
        semconv.BUDGET_SPENT_USD: 3.0,
        semconv.BUDGET_KEY: "acme",
    }


def test_spend_resets_each_hour_and_the_budget_can_warn_again(otel: OTelHarness) -> None:
    clock = Clock(3600.0 * 1000)
    hourly = Budget(1.0, window="hour", scope="total", name="process-hourly")
    seen: list[BudgetExceeded] = []
    tracker = BudgetTracker(
        [hourly], on_exceeded=seen.append, logger_provider=otel.logger_provider, clock=clock
    ).install()
    tel = otel.telemetry()
    try:
        _chat(tel, "a", 1500, 0)  # $1.50 in hour 1000
        clock.now += 3599
        _chat(tel, "b", 100, 0)  # same hour, already warned
        clock.now += 1
        assert tracker.spent(hourly) == 0.0
        _chat(tel, "c", 800, 0)  # hour 1001: $0.80, under
        _chat(tel, "d", 300, 0)  # $1.10, crosses again
    finally:
        tracker.uninstall()
    assert [(e.budget.label, e.key, round(e.spent_usd, 6), e.window_start) for e in seen] == [
        ("process-hourly", None, 1.5, 3_600_000.0),
        ("process-hourly", None, 1.1, 3_603_600.0),
    ]
    assert [r.attributes[semconv.BUDGET_NAME] for r in otel.logs()] == ["process-hourly"] * 2


def test_a_budget_for_one_key_ignores_other_keys_and_unattributed_spend(
    otel: OTelHarness,
) -> None:
    only_search = Budget(0.5, scope="feature", key="search")
    tracker = BudgetTracker([only_search], logger_provider=otel.logger_provider, clock=Clock())
    tracker.add(10.0, None)
    with attribution(feature="chat") as other:
        tracker.add(10.0, other)
    with attribution(feature="search") as search:
        tracker.add(0.4, search)
        assert otel.logs() == []
        tracker.add(0.2, search)
    assert tracker.spent(only_search) == pytest.approx(0.6)
    assert [r.attributes[semconv.BUDGET_KEY] for r in otel.logs()] == ["search"]


def test_a_raising_callback_never_reaches_the_application(otel: OTelHarness) -> None:
    def boom(event: BudgetExceeded) -> None:
        raise RuntimeError("pager down")

    tracker = BudgetTracker(
        [Budget(0.1)], on_exceeded=boom, logger_provider=otel.logger_provider, clock=Clock()
    ).install()
    tel = otel.telemetry()
    try:
        _chat(tel, "a", 1000, 0)
    finally:
        tracker.uninstall()
    assert [s["name"] for s in otel.span_dicts()] == [f"chat {MODEL}"]
    assert len(otel.logs()) == 1


def test_memory_is_bounded_to_the_most_recent_keys(otel: OTelHarness) -> None:
    tracker = BudgetTracker(
        [Budget(100.0, scope="user")], logger_provider=otel.logger_provider, max_keys=3
    )
    for i in range(10):
        with attribution(user_id=f"user-{i}") as who:
            tracker.add(1.0, who)
    assert [k for _, k in tracker._spend] == ["user-7", "user-8", "user-9"]


def test_concurrent_spend_is_counted_exactly_and_warned_once(otel: OTelHarness) -> None:
    seen: list[BudgetExceeded] = []
    budget = Budget(50.0, scope="tenant")
    tracker = BudgetTracker(
        [budget], on_exceeded=seen.append, logger_provider=otel.logger_provider, clock=Clock()
    )
    with attribution(tenant_id="acme") as who:

        def spend() -> None:
            for _ in range(1000):
                tracker.add(0.01, who)

        threads = [threading.Thread(target=spend) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert tracker.spent(budget, "acme") == pytest.approx(80.0)
    assert len(seen) == 1 and seen[0].spent_usd == pytest.approx(50.01)


def test_invalid_budgets_are_rejected_at_configuration() -> None:
    with pytest.raises(ValueError):
        Budget(0.0)
    with pytest.raises(ValueError):
        Budget(1.0, window="week")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Budget(1.0, scope="team")  # type: ignore[arg-type]
