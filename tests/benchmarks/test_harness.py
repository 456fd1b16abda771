"""The benchmark harness itself: floor replay fidelity, paired statistics, offline workloads.

``nox -s tests`` runs this file after the suites (the benchmarks themselves are not tests).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, Tracer, TracerProvider
from opentelemetry.trace import SpanKind

from genai_trace_core.export import fast_tracer
from genai_trace_core.export._fast_span import FastSpan
from tests.benchmarks import _ratios
from tests.benchmarks._measure import (
    Pipeline,
    capture_tree,
    measure,
    replayer,
    sdk_in_place,
    tree_recorder,
)
from tests.benchmarks._report import summarise


def _burn_ms(ms: int) -> None:
    """Spend ``ms`` milliseconds of this thread's CPU time."""
    t = time.thread_time_ns()
    while time.thread_time_ns() - t < ms * 1_000_000:
        pass


class _SlowOnEnd(SpanProcessor):
    """Burns ~1 ms of CPU in every ``on_end``: time spent inside the SDK's ``Span.end``."""

    def on_end(self, span: ReadableSpan) -> None:
        _burn_ms(1)


def _slow_provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(_SlowOnEnd())
    return provider


def test_sdk_in_place_counts_only_time_inside_sdk_span_calls() -> None:
    """Time spent between SDK calls is not counted; time inside them is (a span processor that
    burns ~1 ms per span end runs inside ``Span.end``), and the patches are undone."""
    tracer = _slow_provider().get_tracer("t")

    def run() -> None:
        _burn_ms(3)  # 3 ms of "framework" work
        with tracer.start_as_current_span("a"):
            tracer.start_span("b").end()

    before = (Tracer.start_span, Span.end)
    us = sdk_in_place(run, 5)
    assert (Tracer.start_span, Span.end) == before
    assert 2000 <= us < 2900  # two span ends at ~1 ms each, not the 3 ms in between


def test_sdk_in_place_also_counts_genai_traces_fast_span_path() -> None:
    """genai-trace's fast tracer does the SDK's span work in its own wrapper and ``Span``
    subclass: a slow processor's ``on_end`` under a fast span is counted as well."""
    tracer = fast_tracer(_slow_provider().get_tracer("t"))
    assert tracer is not None

    def run() -> None:
        span = tracer.start_span("a")
        assert isinstance(span, FastSpan)
        _burn_ms(3)
        span.end()

    before = FastSpan.end
    us = sdk_in_place(run, 5)
    assert FastSpan.end is before
    assert 900 <= us < 1900  # one span end at ~1 ms, not the 3 ms in between


def _shape(tree: list[dict[str, Any]]) -> list[tuple[str, str, int, dict[str, Any]]]:
    return [(n["name"], n["kind"], n["parent"], n["attributes"]) for n in tree]


def _sample_run(provider: TracerProvider) -> Any:
    tracer = provider.get_tracer("sample")

    def run() -> None:
        with tracer.start_as_current_span("invoke_agent a", kind=SpanKind.INTERNAL) as root:
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            with tracer.start_as_current_span(
                "chat m", kind=SpanKind.CLIENT, attributes={"gen_ai.request.model": "m"}
            ):
                pass
            with (
                tracer.start_as_current_span(
                    "execute_tool t", attributes={"gen_ai.tool.name": "t", "x": ("a", "b")}
                ),
                tracer.start_as_current_span("chat m", kind=SpanKind.CLIENT),
            ):
                pass

    return run


@pytest.mark.parametrize("processor", ["simple", "batch"])
def test_floor_replay_recreates_the_same_span_tree(processor: str) -> None:
    source = Pipeline(processor)
    original = capture_tree(
        source.provider, _sample_run(source.provider), tree_recorder(source.provider)
    )

    target = Pipeline(processor)
    replay = replayer(original, target.provider)
    replayed = capture_tree(target.provider, replay, tree_recorder(target.provider))

    assert _shape(replayed) == _shape(original)
    assert _shape(original) == [
        ("invoke_agent a", "INTERNAL", -1, {"gen_ai.operation.name": "invoke_agent"}),
        ("chat m", "CLIENT", 0, {"gen_ai.request.model": "m"}),
        ("execute_tool t", "INTERNAL", 0, {"gen_ai.tool.name": "t", "x": ["a", "b"]}),
        ("chat m", "CLIENT", 2, {}),
    ]


def test_measure_counts_spans_per_invocation_for_both_processors() -> None:
    for processor in ("simple", "batch"):
        pipeline = Pipeline(processor)
        timing = measure(
            _sample_run(pipeline.provider), pipeline, warmup_s=0.01, repeats=2, repeat_s=0.01
        )
        assert timing.spans_per_inv == 4.0
        assert timing.us_per_inv > 0
        assert len(timing.repeats_us) == 2


def _rec(rnd: int, w: str, name: str, proc: str, us: float, spans: float = 0.0) -> dict[str, Any]:
    return {
        "round": rnd,
        "workload": w,
        "instrumentation": name,
        "processor": proc,
        "us_per_inv": us,
        "cpu_us_per_inv": us,
        "spans_per_inv": spans,
    }


def test_overhead_is_paired_with_the_same_rounds_baseline() -> None:
    # Round 1 runs on a machine twice as slow as round 0: pairing cancels the drift.
    records = []
    for rnd, scale in ((0, 1.0), (1, 2.0), (2, 1.0)):
        records += [
            _rec(rnd, "lc_tools", "none", "-", 1000 * scale),
            _rec(rnd, "lc_tools", "noop", "-", 1100 * scale),
            _rec(rnd, "lc_tools", "genai_trace", "batch", 1250 * scale, 5),
            _rec(rnd, "lc_tools", "otel", "batch", 2200 * scale, 5),
            _rec(rnd, "lc_tools", "openllmetry", "batch", 2500 * scale, 5),
            _rec(rnd, "lc_tools", "floor:genai_trace", "batch", 120.0),
        ]
    rows = {r["instrumentation"]: r for r in summarise(records, "cpu")}
    gt = rows["genai_trace"]
    assert gt["overhead_us"] == 250  # median of 250, 500, 250
    assert gt["overhead_over_noop_us"] == 150
    assert gt["floor_us"] == 120
    assert gt["best_competitor"] == "otel"
    assert gt["ratio_to_best_competitor"] == pytest.approx(250 / 1200)
    assert "floor:genai_trace" not in rows


def _node(op: str | None = None, kind: str | None = None) -> dict[str, Any]:
    attrs = {"gen_ai.operation.name": op, "openinference.span.kind": kind}
    return {"name": "s", "attributes": {k: v for k, v in attrs.items() if v is not None}}


def test_ratios_are_per_round_with_ranges_and_targets_compare_genai_spans() -> None:
    ours = [_node("invoke_workflow"), _node("retrieval"), _node("embeddings"), _node("chat")]
    openinference = [_node(kind="CHAIN"), _node(kind="RETRIEVER"), _node(kind="LLM")]
    openllmetry = [_node("invoke_agent"), _node("execute_task"), _node("chat")]
    assert [_ratios.genai_spans(t) for t in (ours, openinference, openllmetry)] == [3, 2, 2]
    mirrored = [  # OpenInference on LlamaIndex: retrieve > _retrieve > embedding > _embedding
        {**_node(kind="RETRIEVER"), "parent": -1},
        {**_node(kind="RETRIEVER"), "parent": 0},
        {**_node(kind="EMBEDDING"), "parent": 1},
        {**_node(kind="EMBEDDING"), "parent": 2},
        {**_node(kind="LLM"), "parent": -1},
        {**_node(kind="LLM"), "parent": -1},  # siblings are two calls
        {**_node("chat"), "parent": 4},  # another tracer's kind under it: not a mirror
    ]
    assert _ratios.genai_spans(mirrored) == 5
    records = []
    for rnd, floor in ((0, 100.0), (1, 200.0), (2, 150.0)):
        records += [
            _rec(rnd, "lc_rag", "none", "-", 1000),
            _rec(rnd, "lc_rag", "noop", "-", 1100),
            _rec(rnd, "lc_rag", "genai_trace", "batch", 1400, 4),
            _rec(rnd, "lc_rag", "openllmetry", "batch", 1000 + 400 * (rnd + 1), 3),
            _rec(rnd, "lc_rag", "openinference", "batch", 3000, 3),
            _rec(rnd, "lc_rag", "floor:genai_trace", "batch", floor),
        ]
        records[-4]["sdk_in_place_us"] = 2 * floor
    for rec, tree in zip(records[2:5], (ours, openllmetry, openinference), strict=True):
        rec["tree"] = tree  # round 0 carries the trees
    rows = {r["instrumentation"]: r for r in _ratios.rows(records, "cpu")}
    gt = rows["genai_trace"]
    assert (gt["spans"], gt["genai_spans"]) == (4, 3)
    assert gt["over_noop_div_floor"] == (2.0, 1.5, 3.0)  # 300 / 100, 200, 150
    assert gt["sdk_in_place_div_floor"] == (2.0, 2.0, 2.0)
    assert gt["div_openllmetry"] == pytest.approx((0.5, 1 / 3, 1.0))  # 400 / 400, 800, 1200
    assert gt["div_openinference"] == (0.2, 0.2, 0.2)
    assert rows["openllmetry"]["div_openinference"] is None
    verdicts = [(t["target"], t["pass"]) for t in _ratios.targets(list(rows.values()))]
    assert verdicts == [
        ("over noop <= 2x floor", True),
        ("<= 0.5x OpenLLMetry, GenAI spans 3 vs 2", True),
        ("<= 0.25x OpenInference, GenAI spans 3 vs 2", True),
    ]
    assert "| lc_rag | genai_trace | batch | 3 (4) | 2.00 [1.50, 3.00] |" in _ratios.table(
        list(rows.values())
    )


# LlamaIndex's ReActAgent touches pydantic's deprecated ``__fields__`` when it is built.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_workloads_run_offline_and_deterministically() -> None:
    pytest.importorskip("langgraph")
    from tests.benchmarks._fakes import ANSWER
    from tests.benchmarks._workloads import build

    assert build("lc_rag").run() == ANSWER
    assert build("lc_stream").run() == build("lc_stream").run()
    assert "21 degrees" in build("lc_tools").run()
    messages = build("lg_agent").run()["messages"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert build("li_query").run() == ANSWER
    agent = build("li_agent")
    try:
        assert "21 degrees" in agent.run()
    finally:
        agent.close()


def test_faults_verdict_needs_the_whole_interval_on_one_side() -> None:
    from tests.benchmarks._faults_report import added_p99_ci, verdict

    same = [1_000_000 + (i * 7919) % 500_000 for i in range(2000)]
    lo, hi = added_p99_ci(same, same)
    assert lo == hi == 0
    slower = [v + 2_000_000 for v in same]  # 2 ms on every call
    assert added_p99_ci(slower, same) == pytest.approx((2.0, 2.0))
    assert verdict((-0.5, 0.9)) == "PASS"
    assert verdict((1.1, 3.0)) == "FAIL"
    assert verdict((-3.0, 4.0)) == "not resolved"


def test_faults_pipeline_finds_the_three_otlp_exporters_configure_built() -> None:
    """The faults benchmark measures ``configure(endpoint=...)`` itself; what it reads from the
    SDK (the exporters it stops before a fault, the span processor's drop counts) is there."""
    from tests.benchmarks._faults_pipeline import build_pipeline
    from tests.reliability.fake_otlp_backend import closed_port

    url = f"http://127.0.0.1:{closed_port()}"
    ours = build_pipeline(url, "bench", with_handler=False)
    try:
        exporters = ours.exporters()
        assert [(type(e).__module__, type(e).__name__) for e in exporters] == [
            # the SDK's exporter with genai-trace's byte-identical encoder (a subclass)
            ("genai_trace_core.export._otlp_exporter", "FastOTLPSpanExporter"),
            ("opentelemetry.exporter.otlp.proto.http.metric_exporter", "OTLPMetricExporter"),
            ("opentelemetry.exporter.otlp.proto.http._log_exporter", "OTLPLogExporter"),
        ]
        assert [e._endpoint for e in exporters] == [
            f"{url}/v1/traces",
            f"{url}/v1/metrics",
            f"{url}/v1/logs",
        ]
        assert type(ours.processor).__name__ == "GuardedBatchSpanProcessor"
        assert ours.dropped() == {}
    finally:
        ours.stop_exporters()
        ours.shutdown()


def test_faults_benchmark_runs_end_to_end() -> None:
    """A tiny run against a backend answering 500: every check holds, the table prints."""
    pytest.importorskip("langgraph")
    from tests.benchmarks import _faults, _faults_report

    params = _faults.Params(calls=120, rounds=1, warmup=0, backends=("500",))
    result = _faults.run(params, lambda msg: None)
    (b,) = result["backends"]
    assert b["checks"] == []
    assert b["calls"] == 120
    assert b["exceptions"] == {"faulty": 0, "healthy": 0}
    assert b["dropped"]["export_failed"] >= 512
    assert b["drop_warnings"] == 1
    assert result["reference_dropped"] == {}
    assert result["reference_received"]["requests"] >= 1
    assert "| 500 |" in _faults_report.table(result)


def test_tokenizer_counts_see_opted_in_encodes_and_none_by_default() -> None:
    """The ``--tokenizer`` counter (issue 14, target 3): zero of ours by default on lc_rag (the
    estimate is ceil(chars/4)); with offline counts opted in it sees the query embedding's
    encode on LangChain's executor thread, once per invocation."""
    from tests.benchmarks import _tokenizer

    rows = {
        r["mode"]: r
        for r in _tokenizer.counts(3, 1, lambda _msg: None, ("lc_rag",))
        if r["workload"] == "lc_rag"
    }
    assert (rows["default"]["loads"], rows["default"]["our_encodes"]) == ([], {})
    assert rows["default"]["tiktoken_imported"] is False
    assert (rows["opt-in"]["loads"], rows["opt-in"]["our_encodes"]) == (
        ["cl100k_base"],
        {"other": 3},
    )


def test_split_mapping_mode_stubs_every_span_of_core_and_full_mode_keeps_them() -> None:
    """``_split``'s mapping arm (core's lifecycle stubbed) must emit no span at all, or its
    difference to the full arm would not be core's cost; the full arm emits the workload's."""
    from tests.benchmarks._split import _spawn

    args = ["--invocations", "4", "--repeats", "1"]
    mapping = _spawn(["--one", "lc_tools", "mapping", *args])
    full = _spawn(["--one", "lc_tools", "full", *args])
    assert mapping["spans"] == 0
    assert full["spans"] == 5
    assert mapping["us"] > 0 and full["us"] > 0
    hot = _spawn(["--hot", "--invocations", "8", "--repeats", "1"])
    assert hot["ours"] > 0 and hot["bare"] > 0


def test_memory_mode_reports_live_allocations_beside_rss() -> None:
    """The memory run samples the interpreter's live blocks and GC objects with RSS, so RSS
    growth with both flat is told apart from a Python-level leak, and below them malloc's bytes,
    pymalloc's arenas and the threads started; the table prints them."""
    from tests.benchmarks._report import memory_table
    from tests.benchmarks._runner import run_memory

    [sync, _async] = run_memory(["lc_tools"], 400, "genai_trace", lambda msg: None)
    assert "error" not in sync, sync.get("error")
    assert isinstance(sync["blocks_growth_second_half"], int)
    assert isinstance(sync["objects_growth_second_half"], int)
    assert sync["registry_max_open_after_invocation"] == 0
    row = memory_table([sync]).splitlines()[-1]
    assert f"{sync['blocks_growth_second_half']:+d}, {sync['objects_growth_second_half']:+d}" in row
    # Below Python's objects: malloc's in-use/held-free bytes, pymalloc arenas, thread starts.
    assert sync["pymalloc_arenas"] and isinstance(sync["malloc_kb"]["in_use"], list), sync
    assert f"; {sync['pymalloc_arenas_growth_second_half']:+d} | 0 |" in row


def test_memstats_see_malloc_blocks_pymalloc_arenas_and_thread_starts() -> None:
    """An 8 MB block shows in malloc's in-use bytes, pymalloc's arenas are counted, and so is
    each ``Thread.start``: what tells an allocator step from a Python-level leak."""
    import threading

    from tests.benchmarks._memstats import counting_thread_starts, malloc_kb, pymalloc_arenas

    before, arenas = malloc_kb(), pymalloc_arenas()
    if before is None:
        pytest.skip("mallinfo2 is glibc's (2.33+)")
    assert arenas is not None and arenas > 0
    block = bytearray(8 << 20)
    after = malloc_kb()
    assert after is not None and after["in_use"] - before["in_use"] >= 8 << 10
    del block
    original = threading.Thread.start
    with counting_thread_starts() as starts:
        for _ in range(3):
            t = threading.Thread(target=lambda: None)
            t.start()
            t.join()
    assert starts == [3] and threading.Thread.start is original


def test_gc_tail_counts_collections_that_tracing_causes_and_none_without() -> None:
    """``_gc_tail`` counts young and full collections per 10k invocations in a fresh process:
    few without tracing (the workload frees what it allocates), many more with genai-trace
    (spans wait in the batch queue), and the spans were exported."""
    from tests.benchmarks._gc_tail import _spawn

    none = _spawn("lc_tools", "none", 1000)
    ours = _spawn("lc_tools", "genai_trace", 1000)
    assert none["spans"] == 0 and ours["spans"] >= 1000 * 5
    assert ours["collections_per_10k"][0] > 2 * none["collections_per_10k"][0], (none, ours)
    assert ours["old_generation_objects"] > 0
