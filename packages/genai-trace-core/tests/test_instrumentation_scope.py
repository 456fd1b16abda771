"""An instrumentation package's Telemetry names its spans and metrics after the package (its
import name and version), as OpenTelemetry instrumentations do."""

from __future__ import annotations

from genai_trace_core import Operation, OperationKind, Settings, instrumentation_telemetry
from genai_trace_core.testing import FakeClock, OTelHarness


def test_spans_and_metrics_carry_the_package_scope(otel: OTelHarness) -> None:
    clock = FakeClock(step_ns=0)
    telemetry = instrumentation_telemetry(
        "my_framework_instrumentation",
        "1.2.3",
        otel.tracer_provider,
        otel.meter_provider,
        otel.logger_provider,
        Settings(),
        clock=clock,
    )

    telemetry.start("r1", Operation(OperationKind.CHAT, provider="openai", request_model="m"))
    clock.advance(5_000_000)
    telemetry.fail("r1", RuntimeError("boom"))

    (span,) = otel.spans()
    assert span.instrumentation_scope is not None
    assert (span.instrumentation_scope.name, span.instrumentation_scope.version) == (
        "my_framework_instrumentation",
        "1.2.3",
    )
    assert span.end_time - span.start_time == 5_000_000  # type: ignore[operator]  # our clock
    data = otel.metric_reader.get_metrics_data()
    assert data is not None
    scopes = {
        (sm.scope.name, sm.scope.version) for rm in data.resource_metrics for sm in rm.scope_metrics
    }
    assert scopes == {("my_framework_instrumentation", "1.2.3")}
