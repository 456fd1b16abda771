"""Runs nest by parent run id: under a parent's span, the user's current span, through hidden
(linked) runs, and out of order; every span whole."""

from __future__ import annotations

from inline_snapshot import snapshot

from genai_trace_core import Operation, OperationKind, RequestParams
from genai_trace_core.testing import OTelHarness

WF = OperationKind.INVOKE_WORKFLOW
CHAT = OperationKind.CHAT


def chat_op(model: str = "gpt-4o-mini", **kw: object) -> Operation:
    return Operation(CHAT, provider="openai", request_model=model, **kw)  # type: ignore[arg-type]


def test_children_nest_under_parent_run_ids_span(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("root", Operation(WF, name="rag"))
    t.start("ret", Operation(OperationKind.RETRIEVAL, name="docs", top_k=4), parent_run_id="root")
    t.start(
        "emb",
        Operation(
            OperationKind.EMBEDDINGS, request_model="text-embedding-3-small", provider="openai"
        ),
        parent_run_id="ret",
    )
    t.end("emb")
    t.end("ret")
    t.start("chat", chat_op(), parent_run_id="root")
    t.end("chat")
    t.end("root")
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow rag",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "rag",
                },
            },
            {
                "name": "retrieval docs",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.data_source.id": "docs",
                    "gen_ai.operation.name": "retrieval",
                    "gen_ai.retrieval.top_k": 4,
                },
            },
            {
                "name": "embeddings text-embedding-3-small",
                "kind": "CLIENT",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "embeddings",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "text-embedding-3-small",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                },
            },
        ]
    )
    assert t.open_count() == 0


def test_unknown_parent_falls_back_to_current_context(otel: OTelHarness) -> None:
    t = otel.telemetry()
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("user-request"):
        t.start("chat", chat_op(), parent_run_id="never-started")
        t.end("chat")
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "user-request",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {},
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                },
            },
        ]
    )


def test_root_without_parent_joins_the_users_current_span(otel: OTelHarness) -> None:
    t = otel.telemetry()
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("http"):
        t.start("wf", Operation(WF, name="rag"))
    t.start("chat", chat_op(), parent_run_id="wf")  # outside the user span: parent still wf
    t.end("chat")
    t.end("wf")
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "http",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {},
            },
            {
                "name": "invoke_workflow rag",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "rag",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                },
            },
        ]
    )


def test_out_of_order_end_parent_before_child(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="w"))
    t.start("step", Operation(OperationKind.STEP, name="s"), parent_run_id="wf")
    t.start("chat", chat_op(), parent_run_id="step")
    t.end("step")  # ends before its child: the child stays open and reachable from the root
    assert t.open_count() == 2
    t.end("chat")
    t.end("wf")
    assert t.open_count() == 0
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow w",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "w",
                },
            },
            {
                "name": "s",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {"genai_trace.run.name": "s"},
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                },
            },
        ]
    )


def test_streaming_inference_outlives_its_root(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("q", Operation(OperationKind.STEP, name="query"))
    t.start("llm", chat_op(request=RequestParams(stream=True)), parent_run_id="q")
    t.end("q")
    assert t.open_count() == 1
    t.chunk("llm")
    t.end("llm")
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "query",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {"genai_trace.run.name": "query"},
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.stream": True,
                    "gen_ai.response.time_to_first_chunk": 0.002,
                },
            },
        ]
    )


def test_link_hides_a_run_but_keeps_nesting(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="w"))
    t.link("hidden", parent_run_id="wf")
    t.start("chat", chat_op(), parent_run_id="hidden")
    t.end("chat")
    t.end("hidden")
    t.end("wf")
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow w",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "w",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                },
            },
        ]
    )
    assert t.open_count() == 0


def test_hide_internal_spans_setting_links_steps(otel: OTelHarness) -> None:
    t = otel.telemetry(hide_internal_spans=True)
    t.start("wf", Operation(WF, name="w"))
    t.start("seq", Operation(OperationKind.STEP, name="RunnableSequence"), parent_run_id="wf")
    t.start("chat", chat_op(), parent_run_id="seq")
    for r in ("chat", "seq", "wf"):
        t.end(r)
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow w",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "w",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                },
            },
        ]
    )
