"""User, conversation, tenant and metadata attribution on spans, inherited by child runs."""

from __future__ import annotations

import asyncio

from opentelemetry import context as otel_context

from genai_trace_core import Operation, OperationKind, attribution, current_attribution, semconv
from genai_trace_core.testing import OTelHarness


def test_attribution_block_reaches_root_and_is_inherited_by_children(otel: OTelHarness) -> None:
    t = otel.telemetry(metadata_keys=("feature_flag",))
    with attribution(
        user_id="u-1",
        conversation_id="c-1",
        tenant_id="acme",
        feature="faq",
        metadata={"feature_flag": "beta"},
    ):
        t.start("wf", Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
    t.start(
        "chat",
        Operation(OperationKind.CHAT, provider="openai", request_model="gpt-4o"),
        parent_run_id="wf",
    )
    t.end("chat")
    t.end("wf")
    expected = {
        semconv.USER_ID: "u-1",
        semconv.GEN_AI_CONVERSATION_ID: "c-1",
        semconv.TENANT_ID: "acme",
        semconv.FEATURE: "faq",
        semconv.METADATA_PREFIX + "feature_flag": "beta",
    }
    tree = otel.tree(attributes=tuple(expected))
    assert tree[0]["attributes"] == expected
    assert tree[0]["children"][0]["attributes"] == expected


def test_a_run_under_a_parentless_link_inherits_the_current_attribution(
    otel: OTelHarness,
) -> None:
    """A framework wrapper with no traced parent (a stream read after its query ended) is a
    link; the model call under it still carries the caller's attribution."""
    t = otel.telemetry()
    with attribution(user_id="u-1", tenant_id="acme"):
        t.link("stream-wrapper")
        t.start("chat", Operation(OperationKind.CHAT), parent_run_id="stream-wrapper")
        t.end("chat")
        t.end("stream-wrapper")
    [chat] = otel.tree(attributes=(semconv.USER_ID, semconv.TENANT_ID))
    assert chat["attributes"] == {semconv.USER_ID: "u-1", semconv.TENANT_ID: "acme"}


def test_operation_fields_override_inherited_ones(otel: OTelHarness) -> None:
    t = otel.telemetry(metadata_keys=("team",))
    t.start(
        "wf",
        Operation(
            OperationKind.INVOKE_WORKFLOW,
            name="w",
            user_id="parent-user",
            metadata={"team": "a", "secret_note": "x"},
        ),
    )
    t.start(
        "c",
        Operation(OperationKind.CHAT, request_model="m", conversation_id="thread-7"),
        parent_run_id="wf",
    )
    t.end("c")
    t.end("wf")
    keys = (
        semconv.USER_ID,
        semconv.GEN_AI_CONVERSATION_ID,
        semconv.METADATA_PREFIX + "team",
        semconv.METADATA_PREFIX + "secret_note",
    )
    tree = otel.tree(attributes=keys)
    assert tree[0]["attributes"] == {
        semconv.USER_ID: "parent-user",
        semconv.METADATA_PREFIX + "team": "a",
    }
    assert tree[0]["children"][0]["attributes"] == {
        semconv.USER_ID: "parent-user",
        semconv.GEN_AI_CONVERSATION_ID: "thread-7",
        semconv.METADATA_PREFIX + "team": "a",
    }


def test_nested_blocks_merge_and_restore() -> None:
    assert current_attribution() is None
    with attribution(user_id="u"):
        with attribution(tenant_id="t") as inner:
            assert (inner.user_id, inner.tenant_id) == ("u", "t")
        outer = current_attribution()
        assert outer is not None and outer.tenant_id is None
    assert current_attribution() is None


def test_attribution_is_per_task() -> None:
    seen: dict[str, str | None] = {}

    async def run(user: str) -> None:
        with attribution(user_id=user):
            await asyncio.sleep(0)
            a = current_attribution()
            seen[user] = a.user_id if a else None

    async def main() -> None:
        await asyncio.gather(run("a"), run("b"))

    asyncio.run(main())
    assert seen == {"a": "a", "b": "b"}


def test_a_run_started_after_its_parent_ended_inherits_from_that_parent(
    otel: OTelHarness,
) -> None:
    """Late work, outside the block that made its parent: a tool under an agent the registry
    evicted (retired), a model call a stream makes when read, in the context ``context_of``
    handed out. Both keep the parent's attribution (and a tool its agent's name); until
    2026-12-07 only the current block counted, here none."""
    t = otel.telemetry(registry_max_size=2)
    chat = Operation(OperationKind.CHAT, provider="openai", request_model="gpt-4o-mini")
    with attribution(user_id="alice"):
        t.start("agent", Operation(OperationKind.INVOKE_AGENT, agent_name="planner"))
        t.start("synth", Operation(OperationKind.STEP, name="synthesize", tenant_id="acme"))
    streamed = t.context_of("synth")
    t.end("synth")
    t.start("a", Operation(OperationKind.INVOKE_WORKFLOW, name="a"))
    t.start("b", Operation(OperationKind.INVOKE_WORKFLOW, name="b"))  # evicts the agent
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="search"), parent_run_id="agent")
    t.end("tool")
    assert streamed is not None
    token = otel_context.attach(streamed)  # what a lazily read stream does (LlamaIndex)
    try:
        t.start("late-chat", chat, root=True)
        t.end("late-chat")
    finally:
        otel_context.detach(token)
    for run_id in ("b", "a"):
        t.end(run_id)
    keys = (semconv.USER_ID, semconv.TENANT_ID, semconv.GEN_AI_AGENT_NAME)
    spans = {d["name"]: d for d in otel.span_dicts()}
    late = {name: {k: spans[name]["attributes"].get(k) for k in keys} for name in spans}
    assert late["execute_tool search"] == {
        semconv.USER_ID: "alice",
        semconv.TENANT_ID: None,
        semconv.GEN_AI_AGENT_NAME: "planner",
    }
    assert late["chat gpt-4o-mini"] == {
        semconv.USER_ID: "alice",
        semconv.TENANT_ID: "acme",
        semconv.GEN_AI_AGENT_NAME: None,
    }
    assert late["invoke_workflow a"][semconv.USER_ID] is None  # nothing leaks to the others
    parents = {name: spans.get(name, {}).get("parent_id") for name in spans}
    assert parents["chat gpt-4o-mini"] == spans["synthesize"]["span_id"]
    assert parents["execute_tool search"] == spans["invoke_agent planner"]["span_id"]
