"""Names, tags and ids are exported in every capture mode: bounded and scrubbed of credentials.

A run name, tags and user or session ids are the app's; a response model is the provider's (or a
proxy's); a tool name can be the model's. None is content, so each goes out with capture off:
before 2026-12-06 a 5 MB run name or tag went out whole (75 MB of OTLP for one request, 5 MB on
every metric point) and an API key in a tag or user id went out as written.
"""

from __future__ import annotations

from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
HUGE = "x" * 2_000_000


def _exported(otel: OTelHarness) -> bytes:
    out = encode_spans(otel.spans()).SerializeToString()
    logs = otel.log_exporter.get_finished_logs()
    if logs:
        out += encode_logs(list(logs)).SerializeToString()
    data = otel.metric_reader.get_metrics_data()
    assert data is not None
    return out + encode_metrics(data).SerializeToString()


def _run(otel: OTelHarness, **model: Any) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    chain = (
        ChatPromptTemplate.from_messages([("user", "{q}")])
        | FakeChatOpenAI(**model)
        | StrOutputParser()
    )
    config: Any = {
        "callbacks": [handler],
        "run_name": f"answer {KEY} {HUGE}",
        "tags": [f"t-{KEY}", f"big{HUGE}", *(f"tag{i}" for i in range(100))],
        "metadata": {"user_id": f"u-{KEY}{HUGE}", "session_id": f"s-{KEY}{HUGE}"},
    }
    assert chain.invoke({"q": "hi"}, config=config) == "Answer: hi"
    assert handler.telemetry.open_count() == 0


def test_huge_labels_with_a_key_are_bounded_and_masked_on_spans_and_metrics(
    otel: OTelHarness,
) -> None:
    _run(otel, response_model="gpt-4o-mini-" + "M" * 300_000)
    exported = _exported(otel)
    assert KEY.encode() not in exported
    assert b"x" * 300 not in exported and b"M" * 300 not in exported
    assert len(exported) < 64_000  # was ~12 MB for this request
    root = "invoke_workflow answer [REDACTED:openai_key] xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    tree = shape(otel.tree())
    assert tree[0][0].startswith(root) and tree[0][0].endswith(" chars]")
    assert [child[0] for child in tree[0][3]] == [
        "ChatPromptTemplate",
        "chat gpt-4o-mini",
        "StrOutputParser",
    ]
    for span in otel.span_dicts():
        attrs = span["attributes"]
        assert len(span["name"]) <= 256
        tags = attrs[semconv.RUN_TAGS]
        assert len(tags) == 32 and tags[0] == "t-[REDACTED:openai_key]"
        assert all(len(t) <= 256 for t in tags)
        assert attrs[semconv.USER_ID].startswith("u-[REDACTED:openai_key]")
        assert len(attrs[semconv.USER_ID]) <= 256
        assert len(attrs[semconv.GEN_AI_CONVERSATION_ID]) <= 256
    chat = next(s for s in otel.span_dicts() if s["name"] == "chat gpt-4o-mini")
    model = chat["attributes"][semconv.GEN_AI_RESPONSE_MODEL]
    assert model.startswith("gpt-4o-mini-MMM") and len(model) <= 256
    for points in otel.metrics().values():
        for point in points:
            for value in point["attributes"].values():
                assert not isinstance(value, str) or len(value) <= 256
