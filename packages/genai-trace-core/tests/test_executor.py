from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

from genai_trace_core import ContextThreadPoolExecutor, with_current_context
from genai_trace_core.testing import OTelHarness

_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("v", default="unset")


def _traced_work(harness: OTelHarness) -> str:
    tracer = harness.tracer_provider.get_tracer("t")
    with tracer.start_as_current_span("work"):
        return _VAR.get()


def test_context_executor_runs_tasks_in_the_submitters_trace(otel: OTelHarness) -> None:
    tracer = otel.tracer_provider.get_tracer("t")
    token = _VAR.set("caller")
    try:
        with tracer.start_as_current_span("user"), ContextThreadPoolExecutor(2) as pool:
            seen = pool.submit(_traced_work, otel).result()
    finally:
        _VAR.reset(token)
    assert seen == "caller"
    assert otel.tree(attributes=False) == [
        {
            "name": "user",
            "kind": "INTERNAL",
            "status": "UNSET",
            "children": [{"name": "work", "kind": "INTERNAL", "status": "UNSET", "children": []}],
        }
    ]


def test_plain_executor_with_wrapped_callable_joins_the_trace_and_leaves_callers_context(
    otel: OTelHarness,
) -> None:
    tracer = otel.tracer_provider.get_tracer("t")
    with tracer.start_as_current_span("user"), ThreadPoolExecutor(1) as pool:
        bound = with_current_context(_traced_work)
        pool.submit(bound, otel).result()
        # the worker thread's own context is untouched: unbound work there is a new root
        pool.submit(_traced_work, otel).result()
    tree = otel.tree(attributes=False)
    assert [root["name"] for root in tree] == ["user", "work"]
    assert [c["name"] for c in tree[0]["children"]] == ["work"]
