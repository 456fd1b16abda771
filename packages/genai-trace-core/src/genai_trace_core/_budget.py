"""In-process spend budgets per user, tenant, feature or in total, next to the stack's alerts.

A :class:`BudgetTracker` holds :class:`Budget` limits (USD per clock hour or UTC day). Once
installed (:meth:`BudgetTracker.install`), every cost core computes at a span's end is added to
the running spend of the span's user/tenant/feature; the first time a budget is crossed in a
window, a ``genai_trace.budget.exceeded`` WARN log event is emitted (in the context of the span
that crossed it, so it links to that trace) and the optional callback is called. Spend resets
at the next window. Memory is bounded (``max_keys`` least recently used keys per tracker) and
every update happens under one lock. With no tracker installed the lifecycle pays one read of a
module-level tuple per priced span.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from opentelemetry import _logs
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context

from genai_trace_core import semconv
from genai_trace_core._attribution import Attribution
from genai_trace_core._safe import log_once, safe
from genai_trace_core.version import __version__

__all__ = ["Budget", "BudgetExceeded", "BudgetTracker"]

Scope = Literal["total", "user", "tenant", "feature"]
Window = Literal["hour", "day"]
_WINDOW_S = {"hour": 3600, "day": 86400}
_SCOPE = "genai_trace.budget"


@dataclass(frozen=True, slots=True)
class Budget:
    """``limit_usd`` per ``window`` for each ``scope`` value (every user, tenant or feature on its
    own), or only for ``key`` when given (one tenant). ``scope="total"`` is the whole process."""

    limit_usd: float
    window: Window = "day"
    scope: Scope = "total"
    key: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.window not in _WINDOW_S:
            raise ValueError(f"window must be 'hour' or 'day', not {self.window!r}")
        if self.scope not in ("total", "user", "tenant", "feature"):
            raise ValueError(f"unknown budget scope {self.scope!r}")
        if not self.limit_usd > 0:
            raise ValueError("limit_usd must be positive")

    @property
    def label(self) -> str:
        return self.name or f"{self.scope}:{self.key or '*'}:{self.window}"


@dataclass(frozen=True, slots=True)
class BudgetExceeded:
    """What the callback receives: which budget, for whom, how much, in which window."""

    budget: Budget
    key: str | None
    spent_usd: float
    window_start: float  # epoch seconds (UTC)


def _key_of(scope: Scope, attribution: Attribution | None) -> str | None:
    if scope == "total":
        return ""
    if attribution is None:
        return None
    if scope == "user":
        return attribution.user_id
    if scope == "tenant":
        return attribution.tenant_id
    return attribution.feature


class _Spend:
    __slots__ = ("alerted", "spent", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.spent = 0.0
        self.alerted = False


class BudgetTracker:
    """Running spend against budgets; see the module docs. ``clock`` returns epoch seconds."""

    def __init__(
        self,
        budgets: list[Budget] | tuple[Budget, ...],
        *,
        on_exceeded: Callable[[BudgetExceeded], Any] | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        clock: Callable[[], float] = time.time,
        max_keys: int = 10_000,
    ) -> None:
        self.budgets = tuple(budgets)
        self._on_exceeded = on_exceeded
        self._logger = _logs.get_logger(_SCOPE, __version__, logger_provider)
        self._clock = clock
        self._max_keys = max(1, max_keys)
        self._lock = threading.Lock()
        self._spend: OrderedDict[tuple[int, str], _Spend] = OrderedDict()

    # --- installation -----------------------------------------------------------------------

    def install(self) -> BudgetTracker:
        """Start receiving every span's cost (any Telemetry in this process)."""
        global listeners
        with _install_lock:
            if self not in listeners:
                listeners = (*listeners, self)
        return self

    def uninstall(self) -> None:
        global listeners
        with _install_lock:
            listeners = tuple(t for t in listeners if t is not self)

    # --- reading ----------------------------------------------------------------------------

    def spent(self, budget: Budget, key: str | None = None) -> float:
        """USD spent in ``budget``'s current window by ``key`` (ignored for ``total``)."""
        index = self.budgets.index(budget)
        window = int(self._clock() // _WINDOW_S[budget.window])
        k = "" if budget.scope == "total" else (budget.key or key or "")
        with self._lock:
            state = self._spend.get((index, k))
            return state.spent if state is not None and state.window == window else 0.0

    # --- feeding ----------------------------------------------------------------------------

    @safe()
    def add(
        self, cost_usd: float, attribution: Attribution | None, ctx: Context | None = None
    ) -> None:
        """Add one operation's cost; emit and call back for every budget it crosses."""
        if not cost_usd > 0:
            return
        now = self._clock()
        crossed: list[BudgetExceeded] = []
        with self._lock:
            for index, budget in enumerate(self.budgets):
                key = _key_of(budget.scope, attribution)
                if key is None or (budget.key is not None and key != budget.key):
                    continue
                window = int(now // _WINDOW_S[budget.window])
                state = self._state(index, key, window)
                state.spent += cost_usd
                if not state.alerted and state.spent > budget.limit_usd:
                    state.alerted = True
                    start = float(window * _WINDOW_S[budget.window])
                    crossed.append(BudgetExceeded(budget, key or None, state.spent, start))
        for event in crossed:  # outside the lock: the callback may be slow or re-enter
            self._emit(event, ctx)

    def _state(self, index: int, key: str, window: int) -> _Spend:
        spend = self._spend
        state = spend.get((index, key))
        if state is None:
            state = spend[(index, key)] = _Spend(window)
            if len(spend) > self._max_keys:
                spend.popitem(last=False)
        else:
            spend.move_to_end((index, key))
            if state.window != window:
                state.window, state.spent, state.alerted = window, 0.0, False
        return state

    def _emit(self, event: BudgetExceeded, ctx: Context | None) -> None:
        budget = event.budget
        attrs: dict[str, Any] = {
            semconv.BUDGET_NAME: budget.label,
            semconv.BUDGET_SCOPE: budget.scope,
            semconv.BUDGET_WINDOW: budget.window,
            semconv.BUDGET_LIMIT_USD: budget.limit_usd,
            semconv.BUDGET_SPENT_USD: round(event.spent_usd, 6),
        }
        if event.key:
            attrs[semconv.BUDGET_KEY] = event.key
        self._logger.emit(
            LogRecord(
                timestamp=time.time_ns(),
                context=ctx,
                severity_number=SeverityNumber.WARN,
                severity_text="WARN",
                event_name=semconv.EVENT_BUDGET_EXCEEDED,
                body=f"budget {budget.label} exceeded: ${event.spent_usd:.4f} > "
                f"${budget.limit_usd:.4f}",
                attributes=attrs,
            )
        )
        if self._on_exceeded is not None:
            try:
                self._on_exceeded(event)
            except Exception:
                log_once("budget-callback", "genai-trace: a budget callback raised")


# Installed trackers; the lifecycle reads this tuple once per priced span (empty: nothing to do).
listeners: tuple[BudgetTracker, ...] = ()
_install_lock = threading.Lock()


def notify(cost_usd: float, attribution: Attribution | None, ctx: Context | None) -> None:
    """Called by the lifecycle at a priced span's end (only when a tracker is installed)."""
    for tracker in listeners:
        tracker.add(cost_usd, attribution, ctx)
