"""Metric attributes are as encodable as span attributes: a user-chosen name with a lone
surrogate (a run name, a tool's run name, a tenant id) reaches the metrics repaired (U+FFFD), as
it reaches the span. The OTLP metrics encoder cannot encode such a string: it logs an error and
drops the attribute, so the workflow, tool and tenant went missing from the metrics."""

from __future__ import annotations

import logging

from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from reliability_support import captured_logs

from genai_trace_core import Settings, attribution, semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

SUR = "x\ud800y"
FIXED = "x\ufffdy"
TENANT = semconv.TENANT_ID


@tool
def lookup(city: str) -> str:
    """Look a city up."""
    return city.upper()


def test_names_with_a_lone_surrogate_reach_the_metrics_repaired_and_encodable(
    otel: OTelHarness,
) -> None:
    settings = Settings().with_overrides(metric_attribute_keys=(TENANT,))
    handler = OpenTelemetryCallbackHandler(
        otel.tracer_provider, otel.meter_provider, otel.logger_provider, settings=settings
    )
    config = {"callbacks": [handler], "run_name": "flow" + SUR}
    with attribution(tenant_id="acme" + SUR):
        assert RunnableLambda(lambda x: x + 1).invoke(1, config=config) == 2  # type: ignore[arg-type]
    tool_config = {"callbacks": [handler], "run_name": "tool" + SUR}
    assert lookup.invoke({"city": "oslo"}, config=tool_config) == "OSLO"  # type: ignore[arg-type]

    data = otel.metric_reader.get_metrics_data()
    with captured_logs("opentelemetry", logging.WARNING) as records:
        encoded = encode_metrics(data).SerializeToString()
    assert [r.getMessage() for r in records] == []  # nothing dropped by the encoder
    assert ("flow" + FIXED).encode() in encoded and ("acme" + FIXED).encode() in encoded

    metrics = otel.metrics()
    [invocation] = metrics[semconv.METRIC_INVOCATION_DURATION]
    assert invocation["attributes"][semconv.GEN_AI_WORKFLOW_NAME] == "flow" + FIXED
    assert invocation["attributes"][TENANT] == "acme" + FIXED
    [tool_point] = metrics[semconv.METRIC_EXECUTE_TOOL_DURATION]
    assert tool_point["attributes"][semconv.GEN_AI_TOOL_NAME] == "tool" + FIXED
    names = {s.name for s in otel.spans()}
    assert names == {"invoke_workflow flow" + FIXED, "execute_tool tool" + FIXED}
