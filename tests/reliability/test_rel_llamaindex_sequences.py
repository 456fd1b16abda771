"""Random call sequences through the LlamaIndex handlers: the dispatcher span handler
(``span_enter``/``span_exit``/``span_drop``, and the ``new_span``/``prepare_to_*`` hooks), the
dispatcher event handler (LLM, embedding, rerank and exception events), and the legacy
``OpenTelemetryCallbackHandler`` (``on_event_start``/``on_event_end``,
``start_trace``/``end_trace``).

Span ids name real LlamaIndex instances (query engine, retriever, synthesizer, chat engine, LLM,
tool, workflow, agent) so every role of the bridge is reached; parents are unknown, self, ended
or cyclic; exits and drops come without enters, twice, or from another thread or task; events
are built with ``model_construct`` so any field can hold any value; payloads of the legacy path
are proper, partial or odd. Content capture is on so the content paths run too.

Properties, as for core and LangChain: nothing raises; once the open roots are ended through the
handler only streamed inference may stay open; after shutdown the registry is empty and every
span the SDK started ended exactly once; no context error; everything encodes as OTLP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from opentelemetry import context as otel_context
from reliability_llamaindex_drivers import (
    BOUND,
    IDS,
    DispatcherDriver,
    LegacyDriver,
    _with_hops,
    dispatcher_local,
    legacy_local,
)
from reliability_support import captured_logs, otlp_bytes, with_ledger
from reliability_values import (
    Hops,
    assert_context_restored_or_only_stale,
    open_roots,
    survivors,
)

from genai_trace_core import Telemetry
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import _state


def check_sequence(make: Callable[[OTelHarness], Any], actions: list[tuple[Any, ...]]) -> None:
    assert not _state.dispatcher_active  # else the legacy handler is silent by design
    harness = OTelHarness()
    ledger = with_ledger(harness)
    driver = make(harness)
    hops = Hops(driver.apply)
    t: Telemetry = driver.bridge.telemetry
    before = otel_context.get_current()
    try:
        with captured_logs("opentelemetry.context", logging.ERROR) as ctx_errors:
            for act in actions:
                hops.run(act)
            for _ in range(len(IDS) + 2):  # end every open root through the handler
                roots = open_roots(t)
                if not roots:
                    break
                for root in roots:
                    try:
                        driver.end_root(root)
                    except BaseException as exc:  # asserted below
                        hops.escaped.append(exc)
            assert survivors(t) == []
            driver.shutdown()
            assert hops.escaped == []
            assert t.open_count() == 0, survivors(t)
            assert ledger.open_spans() == []
            assert ledger.ended_more_than_once() == []
            assert_context_restored_or_only_stale(t, harness, before)
            assert ctx_errors == []
        otlp_bytes(harness.spans(), harness.log_exporter.get_finished_logs())
    finally:
        otel_context.attach(before)
        hops.close()
        harness.shutdown()


_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
# A fixed set in the default run (reproducible CI); the slow run explores at random.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=_HEALTH, derandomize=True)
SLOW = settings(max_examples=10_000, deadline=None, suppress_health_check=_HEALTH)


@FAST
@given(_with_hops(dispatcher_local))
@example(  # found by the slow run: a span id entered again under a hidden tool call whose tool
    # span had ended aliased that ended run and outlived its root
    [
        ("enter", (0, 0), None, BOUND[0], None, "own"),
        ("ancestors_first", [(0, 0), (0, 1), (10, 0), (10, 1)], False, [(10, 1)]),
    ]
)
def test_random_dispatcher_span_and_event_sequences_never_raise_and_end_every_span_once(
    actions: list[tuple[Any, ...]],
) -> None:
    check_sequence(DispatcherDriver, actions)


@FAST
@given(_with_hops(legacy_local))
def test_random_legacy_callback_sequences_never_raise_and_end_every_span_once(
    actions: list[tuple[Any, ...]],
) -> None:
    check_sequence(LegacyDriver, actions)


@pytest.mark.slow
@SLOW
@given(_with_hops(dispatcher_local))
def test_ten_thousand_random_dispatcher_sequences_keep_every_property(
    actions: list[tuple[Any, ...]],
) -> None:
    check_sequence(DispatcherDriver, actions)


@pytest.mark.slow
@SLOW
@given(_with_hops(legacy_local))
def test_ten_thousand_random_legacy_callback_sequences_keep_every_property(
    actions: list[tuple[Any, ...]],
) -> None:
    check_sequence(LegacyDriver, actions)
