"""GenAI client metrics: newest instruments by default, released v1.41 names on the switch."""

from __future__ import annotations

from genai_trace_core import (
    Operation,
    OperationKind,
    Outcome,
    RequestParams,
    Usage,
    attribution,
    semconv,
)
from genai_trace_core.testing import OTelHarness

CHAT = OperationKind.CHAT


def _chat(t: object, run: str, usage: Usage | None, **kw: object) -> None:
    t.start(run, Operation(CHAT, provider="openai", request_model="gpt-4o-mini"), **kw)  # type: ignore[attr-defined]
    t.end(run, Outcome(raw_usage=usage, response_model="gpt-4o-mini-2024-07-18"))  # type: ignore[attr-defined]


def test_inference_records_duration_usage_by_type_and_modality(otel: OTelHarness) -> None:
    t = otel.telemetry()
    usage = Usage(
        input_tokens=120,
        output_tokens=30,
        cache_read_input_tokens=100,
        reasoning_output_tokens=10,
        modalities={"audio": {"input_tokens": 20}},
    )
    _chat(t, "c", usage)
    m = otel.metrics()
    base = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
    }
    (dur,) = m[semconv.METRIC_INFERENCE_DURATION]
    assert dur["attributes"] == base
    assert dur["count"] == 1
    assert dur["bounds"] == list(semconv.DURATION_BUCKETS)

    def by_modality(name: str) -> dict[str, int]:
        return {p["attributes"][semconv.GEN_AI_TOKEN_MODALITY]: p["value"] for p in m[name]}

    assert by_modality(semconv.METRIC_USAGE_INPUT_TOKENS) == {"audio": 20, "text": 100}
    assert by_modality(semconv.METRIC_USAGE_OUTPUT_TOKENS) == {"text": 30}
    assert by_modality(semconv.METRIC_USAGE_CACHE_READ_TOKENS) == {"text": 100}
    assert by_modality(semconv.METRIC_USAGE_REASONING_TOKENS) == {"text": 10}
    assert semconv.METRIC_USAGE_CACHE_WRITE_TOKENS not in m
    assert m[semconv.METRIC_OPERATION_INPUT_TOKENS][0]["sum"] == 120
    assert m[semconv.METRIC_OPERATION_OUTPUT_TOKENS][0]["sum"] == 30


def test_failed_inference_without_usage_counts_zero_unknown(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", Operation(CHAT, provider="openai", request_model="gpt-4o"))
    t.fail("c", ConnectionError("down"))
    (point,) = otel.metrics()[semconv.METRIC_USAGE_INPUT_TOKENS]
    assert point["value"] == 0
    assert point["attributes"][semconv.GEN_AI_TOKEN_MODALITY] == "unknown"
    assert point["attributes"][semconv.ERROR_TYPE] == "ConnectionError"
    (histogram,) = otel.metrics()[semconv.METRIC_OPERATION_INPUT_TOKENS]
    assert (histogram["count"], histogram["sum"]) == (1, 0)
    assert histogram["attributes"][semconv.ERROR_TYPE] == "ConnectionError"
    assert semconv.METRIC_OPERATION_OUTPUT_TOKENS not in otel.metrics()


def test_failed_calls_record_the_usage_that_came_back_else_zero_input_tokens(
    otel: OTelHarness,
) -> None:
    t = otel.telemetry()
    t.start("c", Operation(CHAT, provider="openai", request_model="gpt-4o"))
    t.fail(
        "c", TimeoutError("cut"), outcome=Outcome(raw_usage=Usage(input_tokens=40, output_tokens=3))
    )
    t.start("e", Operation(OperationKind.EMBEDDINGS, provider="openai", request_model="te-3"))
    t.fail("e", "rate_limit_exceeded")
    t.start("ok", Operation(CHAT, provider="openai", request_model="gpt-4o"))
    t.end("ok", Outcome())  # succeeded, no usage reported: no per-operation point to skew
    m = otel.metrics()

    def points(name: str) -> list[tuple[object, float]]:
        return [(p["attributes"].get(semconv.ERROR_TYPE), p["sum"]) for p in m[name]]

    assert points(semconv.METRIC_OPERATION_INPUT_TOKENS) == [("TimeoutError", 40)]
    assert points(semconv.METRIC_OPERATION_OUTPUT_TOKENS) == [("TimeoutError", 3)]
    assert points(semconv.METRIC_EMBEDDINGS_INPUT_TOKENS) == [("rate_limit_exceeded", 0)]


def test_v141_token_usage_is_recorded_only_with_a_count(otel: OTelHarness) -> None:
    t = otel.telemetry(metrics_naming="v1.41")
    t.start("c", Operation(CHAT, provider="openai", request_model="gpt-4o"))
    t.fail("c", ConnectionError("down"))
    m = otel.metrics()
    assert m[semconv.METRIC_V141_OPERATION_DURATION][0]["attributes"][semconv.ERROR_TYPE]
    assert semconv.METRIC_V141_TOKEN_USAGE not in m  # v1.41: MUST NOT report without a count


def test_metrics_never_carry_ids_or_content(otel: OTelHarness) -> None:
    t = otel.telemetry(capture_mode="SPAN_AND_EVENT")
    with attribution(user_id="u-123", conversation_id="conv-9", tenant_id="acme"):
        t.start(
            "c",
            Operation(CHAT, provider="openai", request_model="gpt-4o-mini", tool_call_id="call_1"),
        )
        t.end("c", Outcome(raw_usage=Usage(input_tokens=1, output_tokens=1), response_id="resp-1"))
    for points in otel.metrics().values():
        for p in points:
            keys = set(p["attributes"])
            assert not keys & {
                semconv.USER_ID,
                semconv.GEN_AI_CONVERSATION_ID,
                semconv.GEN_AI_RESPONSE_ID,
                semconv.GEN_AI_TOOL_CALL_ID,
                semconv.TENANT_ID,
                semconv.GEN_AI_INPUT_MESSAGES,
            }


def test_configured_attribution_keys_reach_metrics(otel: OTelHarness) -> None:
    t = otel.telemetry(metric_attribute_keys=(semconv.TENANT_ID, semconv.FEATURE))
    with attribution(user_id="u-1", tenant_id="acme", feature="search"):
        _chat(t, "c", Usage(input_tokens=5, output_tokens=2))
    (point,) = otel.metrics()[semconv.METRIC_INFERENCE_DURATION]
    assert point["attributes"][semconv.TENANT_ID] == "acme"
    assert point["attributes"][semconv.FEATURE] == "search"
    assert semconv.USER_ID not in point["attributes"]


def test_tool_agent_and_workflow_metrics(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(OperationKind.INVOKE_WORKFLOW, name="support"))
    t.start("agent", Operation(OperationKind.INVOKE_AGENT, name="helper"), parent_run_id="wf")
    _chat(t, "c1", Usage(input_tokens=5, output_tokens=2), parent_run_id="agent")
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="weather"), parent_run_id="agent")
    t.end("tool")
    _chat(t, "c2", Usage(input_tokens=9, output_tokens=3), parent_run_id="agent")
    t.end("agent")
    t.end("wf")
    m = otel.metrics()
    (tool,) = m[semconv.METRIC_EXECUTE_TOOL_DURATION]
    assert tool["attributes"] == {
        semconv.GEN_AI_OPERATION_NAME: "execute_tool",
        semconv.GEN_AI_TOOL_NAME: "weather",
        semconv.GEN_AI_TOOL_TYPE: "function",
        semconv.GEN_AI_AGENT_NAME: "helper",  # the agent it ran for (CR)
    }
    inv = {
        p["attributes"][semconv.GEN_AI_OPERATION_NAME]: p["attributes"]
        for p in m[semconv.METRIC_INVOCATION_DURATION]
    }
    assert inv["invoke_agent"][semconv.GEN_AI_INVOCATION_IS_NESTED] is True
    assert inv["invoke_agent"][semconv.GEN_AI_AGENT_NAME] == "helper"
    assert inv["invoke_workflow"][semconv.GEN_AI_INVOCATION_IS_NESTED] is False
    assert inv["invoke_workflow"][semconv.GEN_AI_WORKFLOW_NAME] == "support"
    assert m[semconv.METRIC_AGENT_INFERENCE_CALLS][0]["sum"] == 2
    assert m[semconv.METRIC_AGENT_TOOL_CALLS][0]["sum"] == 1


def test_an_agent_counts_each_tool_call_id_once(otel: OTelHarness) -> None:
    """A step run again for the same call (a paused or retried tool step) is two tool spans but
    one call of the agent; calls without an id are each counted."""
    t = otel.telemetry()
    t.start("agent", Operation(OperationKind.INVOKE_AGENT, name="helper"))
    for run, call_id in (("t1", "call_a"), ("t2", "call_a"), ("t3", "call_b"), ("t4", None)):
        op = Operation(OperationKind.EXECUTE_TOOL, name="approve", tool_call_id=call_id)
        t.start(run, op, parent_run_id="agent")
        t.end(run)
    t.end("agent")
    m = otel.metrics()
    assert [p["count"] for p in m[semconv.METRIC_EXECUTE_TOOL_DURATION]] == [4]
    assert [p["sum"] for p in m[semconv.METRIC_AGENT_TOOL_CALLS]] == [3]


def test_embeddings_and_retrieval_use_their_own_instruments(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("r", Operation(OperationKind.RETRIEVAL, name="kb"))
    t.start(
        "e",
        Operation(
            OperationKind.EMBEDDINGS, provider="openai", request_model="text-embedding-3-small"
        ),
        parent_run_id="r",
    )
    t.end(
        "e",
        Outcome(raw_usage=Usage(input_tokens=8), embedding_dimension=1536, embedding_input_count=1),
    )
    t.end("r")
    m = otel.metrics()
    assert m[semconv.METRIC_EMBEDDINGS_DURATION][0]["count"] == 1
    assert m[semconv.METRIC_EMBEDDINGS_INPUT_TOKENS][0]["sum"] == 8
    (op,) = m[semconv.METRIC_OPERATION_DURATION]
    assert op["attributes"][semconv.GEN_AI_OPERATION_NAME] == "retrieval"
    assert semconv.METRIC_INFERENCE_DURATION not in m


def test_v141_switch_emits_released_names(otel: OTelHarness) -> None:
    t = otel.telemetry(metrics_naming="v1.41")
    _chat(t, "c", Usage(input_tokens=7, output_tokens=3))
    m = otel.metrics()
    assert semconv.METRIC_INFERENCE_DURATION not in m
    assert m[semconv.METRIC_V141_OPERATION_DURATION][0]["count"] == 1
    tokens = {
        p["attributes"][semconv.GEN_AI_TOKEN_TYPE]: p["sum"]
        for p in m[semconv.METRIC_V141_TOKEN_USAGE]
    }
    assert tokens == {"input": 7, "output": 3}


def test_allow_listed_keys_are_on_every_metric_a_run_records(otel: OTelHarness) -> None:
    """The gaps between streamed chunks and an abandonment carry the allow-listed attribution
    keys too, not only the duration, tokens, cost and time to first chunk (they lacked them
    until 2026-12-07): one series per tenant on every metric, and still no user id."""
    t = otel.telemetry(metric_attribute_keys=(semconv.TENANT_ID,))
    stream = Operation(
        CHAT, provider="openai", request_model="gpt-4o-mini", request=RequestParams(stream=True)
    )
    with attribution(user_id="u-1", tenant_id="acme"):
        t.start("agent", Operation(OperationKind.INVOKE_AGENT, name="helper"))
        t.start("s", stream, parent_run_id="agent")
        for _ in range(3):
            t.chunk("s")
        t.end("s", Outcome(raw_usage=Usage(input_tokens=5, output_tokens=2)))
        t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="w"), parent_run_id="agent")
        t.end("tool")
        t.start("left", Operation(CHAT, provider="openai", request_model="gpt-4o-mini"))
        t.end("agent")
    t.shutdown()  # "left" is still open: abandoned
    m = otel.metrics()
    assert {
        semconv.METRIC_INFERENCE_TPOC,
        semconv.METRIC_INFERENCE_TTFC,
        semconv.METRIC_SPANS_DROPPED,
        semconv.METRIC_COST,
        semconv.METRIC_EXECUTE_TOOL_DURATION,
        semconv.METRIC_AGENT_TOOL_CALLS,
    } <= set(m)
    tenants = {
        (name, p["attributes"].get(semconv.TENANT_ID), semconv.USER_ID in p["attributes"])
        for name, points in m.items()
        for p in points
    }
    assert tenants == {(name, "acme", False) for name in m}


def test_tools_the_agent_does_not_have_are_one_placeholder_on_metrics(otel: OTelHarness) -> None:
    t = otel.telemetry()
    for run, name in (("a", "lookup_jane@example.com"), ("b", "lookup_bob"), ("c", "weather")):
        t.start(run, Operation(OperationKind.EXECUTE_TOOL, name=name))
    t.fail("a", semconv.ERROR_TYPE_TOOL_ERROR, outcome=Outcome(tool_not_found=True))
    t.fail("b", semconv.ERROR_TYPE_TOOL_ERROR, outcome=Outcome(tool_not_found=True))
    t.end("c")
    names = {
        p["attributes"][semconv.GEN_AI_TOOL_NAME]: p["count"]
        for p in otel.metrics()[semconv.METRIC_EXECUTE_TOOL_DURATION]
    }
    assert names == {semconv.TOOL_NAME_NOT_FOUND: 2, "weather": 1}
    spans = {s.name: s.attributes[semconv.GEN_AI_TOOL_NAME] for s in otel.spans()}  # type: ignore[index]
    assert spans == {  # the spans keep the names the model asked for
        "execute_tool lookup_jane@example.com": "lookup_jane@example.com",
        "execute_tool lookup_bob": "lookup_bob",
        "execute_tool weather": "weather",
    }
