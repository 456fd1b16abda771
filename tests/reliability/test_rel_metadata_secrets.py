"""Allow-listed metadata is scrubbed of credentials like everything else exported: a value that
quotes a URL with a password or a key parameter, or a token, is masked on the span and on the
metrics that list it, whether it came from the framework's metadata or an ``attribution()``
block. It was exported as written."""

from __future__ import annotations

from langchain_core.runnables import RunnableLambda
from reliability_support import otlp_bytes

from genai_trace_core import Settings, attribution, semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

PASSWORD = "hunter2pass"
KEY = "sk-proj-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz"
URL = f"https://svc:{PASSWORD}@llm.internal/v1?api_key={KEY}&region=eu"
BASE = semconv.METADATA_PREFIX + "base"
NOTE = semconv.METADATA_PREFIX + "note"


def test_metadata_values_are_scrubbed_on_spans_and_metrics(otel: OTelHarness) -> None:
    settings = Settings().with_overrides(
        metadata_keys=("base", "note"), metric_attribute_keys=(NOTE,)
    )
    handler = OpenTelemetryCallbackHandler(
        otel.tracer_provider, otel.meter_provider, otel.logger_provider, settings=settings
    )
    step = RunnableLambda(lambda x: x * 2).with_config(run_name="double")
    config = {"callbacks": [handler], "metadata": {"base": URL, "other": KEY}}
    with attribution(metadata={"note": f"token {KEY}"}):
        assert step.invoke(21, config=config) == 42  # type: ignore[arg-type]

    [span] = otel.spans()
    attributes = dict(span.attributes or {})
    assert (
        attributes[BASE]
        == "https://[REDACTED:password]@llm.internal/v1?api_key=[REDACTED]&region=eu"
    )
    assert KEY not in attributes[NOTE] and attributes[NOTE].startswith("token [REDACTED")
    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    metric_points = [p for points in otel.metrics().values() for p in points]
    assert metric_points  # the invocation metric was recorded: the check below saw it
    for secret in (PASSWORD, KEY):
        assert secret.encode() not in exported
        assert all(secret not in str(p["attributes"]) for p in metric_points)
    [invocation] = otel.metrics()[semconv.METRIC_INVOCATION_DURATION]
    assert invocation["attributes"][NOTE] == attributes[NOTE]
