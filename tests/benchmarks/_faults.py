"""Backend faults (issue 6): what a down, slow or failing OTLP backend adds to an app call.

    python -m tests.benchmarks --faults [--faults-calls 3000] [--faults-rounds 3]

The app call is the LangChain LCEL RAG workload (``lc_rag``, 10 spans), traced the way
``configure(endpoint=...)`` sets genai-trace up over ``http/protobuf``: the very OTLP span, metric
and log exporters it builds (``_signals.otlp_exporter``), the span exporter behind
``GuardedBatchSpanProcessor`` with the SDK's default batch settings, a
``PeriodicExportingMetricReader`` and a ``BatchLogRecordProcessor``, with
``LangChainInstrumentor``'s handler on those providers.

Backends on 127.0.0.1, each in its own process (never competing for this process's GIL):
``healthy`` (200; the faulty pipeline is then a second healthy one: the measurement's noise
floor), ``down`` (a closed port), ``slow`` (answers after 10 s), ``500``, ``429`` (Retry-After 1).

Per backend, three pipelines run the same workload interleaved, so all see the same machine load:
the faulty one, a healthy reference (one for the whole run) and ``none`` (no handler). By default
they alternate in turns of ``block`` = 100 calls, so that each pipeline's export thread mostly
works while its own calls run (a fault's effect on background work is attributed to it);
``--faults-block 1`` alternates call by call (the order rotates through all six permutations).
Switching is a module-global assignment (the instrumentor's hook slot) outside the timed region.
Each call is timed with ``perf_counter_ns`` (wall clock: what the app's user waits).

After a warm-up, ``calls`` calls per pipeline are split into ``rounds``; *added p99* is a round's
p99 of the faulty pipeline minus the same round's p99 of the healthy (or ``none``) pipeline
(median over rounds, best round), and the same over all calls pooled, with a 95% paired
block-bootstrap interval. The verdict is PASS when that whole interval is below 1 ms, FAIL when it
is all above, "not resolved" otherwise: the p99 of a traced call is set by rare bursts (an export
encoding 512 spans on another thread, a GC pass), so its noise can exceed the 1 ms being tested;
the ``healthy`` control row (two identical pipelines) shows that noise.

Also recorded: the app thread's CPU time per call (``thread_time_ns``: our own work, without the
time spent waiting for the GIL or the CPU), exceptions, wrong answers, spans dropped by reason
(``DroppedSpans``), WARNING records per logger, and the CPU time of each pipeline's export thread.
Call by call, background work (encoding, retries) slows every pipeline's calls alike through the
GIL and cancels out of the differences: the export-thread CPU column bounds it, turns attribute it.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.benchmarks._faults_pipeline import (
    Counting,
    Pipeline,
    backend,
    build_pipeline,
    capture_logs,
)
from tests.benchmarks._faults_report import (
    TARGET_ADDED_P99_MS,
    added_p99_ci,
    overall,
    percentile,
    stats,
    verdict,
)

WORKLOAD = "lc_rag"
BACKENDS = ("healthy", "down", "slow", "500", "429")
_ORDERS = list(itertools.permutations(range(3)))  # faulty, healthy, none
_RAISED = object()


@dataclass(frozen=True)
class Params:
    calls: int = 3000  # per backend and pipeline, over all rounds
    rounds: int = 6
    warmup: int = 200  # interleaved calls per pipeline before measuring each backend
    # Calls per pipeline per turn. 100 (default): turns of ~0.5 s, so each pipeline's export
    # thread mostly works during its own calls (background cost attributed). 1: call by call,
    # background work (export encoding, retries) hits every pipeline alike and cancels out.
    block: int = 100
    backends: tuple[str, ...] = BACKENDS
    # The healthy reference's span encoder: "fast" (what configure() builds) or "sdk"
    # (GENAI_TRACE_OTLP_ENCODER=sdk): the healthy arm then pairs both encoders (issue 14).
    reference_encoder: str = "fast"


# --- measurement -------------------------------------------------------------------------------

FAULTY, HEALTHY, NONE = 0, 1, 2
_NAMES = ("faulty", "healthy", "none")


@dataclass
class _Samples:
    """Per pipeline, one wall and one app-thread CPU time per iteration (index-aligned)."""

    wall: list[list[int]] = field(default_factory=lambda: [[], [], []])
    cpu: list[list[int]] = field(default_factory=lambda: [[], [], []])
    exceptions: list[int] = field(default_factory=lambda: [0, 0, 0])
    wrong: list[int] = field(default_factory=lambda: [0, 0, 0])

    def extend(self, other: _Samples) -> None:
        for k in range(3):
            self.wall[k].extend(other.wall[k])
            self.cpu[k].extend(other.cpu[k])
            self.exceptions[k] += other.exceptions[k]
            self.wrong[k] += other.wrong[k]


def _interleaved(
    run: Callable[[], Any],
    handlers: tuple[Any, Any, Any],
    calls: int,
    expected: Any,
    out: _Samples,
    block: int = 1,
) -> None:
    """``calls`` calls per pipeline; each takes turns of ``block`` calls, in a rotating order."""
    from genai_trace_langchain import _hook

    set_active = _hook.set_active
    clock = time.perf_counter_ns
    cpu_clock = time.thread_time_ns
    done = 0
    turn = 0
    while done < calls:
        n = min(block, calls - done)
        for k in _ORDERS[turn % len(_ORDERS)]:
            set_active(handlers[k])
            wall, cpu = out.wall[k], out.cpu[k]
            for _ in range(n):
                c0 = cpu_clock()
                t0 = clock()
                try:
                    result = run()
                except Exception:
                    result = _RAISED
                t1 = clock()
                c1 = cpu_clock()
                wall.append(t1 - t0)
                cpu.append(c1 - c0)
                if result is _RAISED:
                    out.exceptions[k] += 1
                elif result != expected:
                    out.wrong[k] += 1
        done += n
        turn += 1
    set_active(None)


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _measurebackend(
    name: str,
    run: Callable[[], Any],
    expected: Any,
    healthy: Pipeline,
    params: Params,
    logs: Counting,
    log: Callable[[str], None],
) -> dict[str, Any]:
    started = time.perf_counter()
    load_before = os.getloadavg()
    with backend(name) as (base_url, received):
        faulty = build_pipeline(base_url, f"genai-trace-faults-{name}")
        try:
            handlers = (faulty.handler, healthy.handler, None)
            logs.reset()
            _interleaved(run, handlers, params.warmup, expected, _Samples(), params.block)
            cpu0 = (faulty.export_thread_cpu_s(), healthy.export_thread_cpu_s())
            spans0 = (faulty.spans_ended(), healthy.spans_ended())
            healthy_dropped0 = healthy.dropped()
            per_round = max(1, params.calls // params.rounds)
            rounds: list[dict[str, Any]] = []
            everything = _Samples()
            for r in range(params.rounds):
                s = _Samples()
                _interleaved(run, handlers, per_round, expected, s, params.block)
                everything.extend(s)
                p99 = [percentile(s.wall[k], 0.99) for k in range(3)]
                rounds.append(
                    {
                        "p99_ms": dict(zip(_NAMES, p99, strict=True)),
                        "added_p99_vs_healthy_ms": p99[FAULTY] - p99[HEALTHY],
                        "added_p99_vs_none_ms": p99[FAULTY] - p99[NONE],
                        "loadavg_1m": os.getloadavg()[0],
                    }
                )
                log(
                    f"  {name} round {r + 1}/{params.rounds}: p99 faulty {p99[0]:.2f} ms, "
                    f"healthy {p99[1]:.2f}, none {p99[2]:.2f}; load {os.getloadavg()[0]:.1f}"
                )
            cpu1 = (faulty.export_thread_cpu_s(), healthy.export_thread_cpu_s())
            spans1 = (faulty.spans_ended(), healthy.spans_ended())
            dropped = faulty.dropped()
            healthy_dropped = {
                k: v - healthy_dropped0.get(k, 0) for k, v in healthy.dropped().items()
            }
            healthy_dropped = {k: v for k, v in healthy_dropped.items() if v}
            log_counts = dict(logs.counts)
            drop_warnings = logs.drop_warnings
            examples = dict(logs.examples)
            open_runs = faulty.handler.telemetry.open_count()
        finally:
            if name == "healthy":
                faulty.shutdown()  # flushes while the backend is up
            else:
                faulty.stop_exporters()  # before the backend stops: a slow one then answers
    if name != "healthy":
        faulty.shutdown()
    wall, cpu = everything.wall, everything.cpu
    added = [r["added_p99_vs_healthy_ms"] for r in rounds]
    added_none = [r["added_p99_vs_none_ms"] for r in rounds]
    ref_none = [r["p99_ms"]["healthy"] - r["p99_ms"]["none"] for r in rounds]
    ci_block = max(20, params.block)
    ci = added_p99_ci(wall[FAULTY], wall[HEALTHY], block=ci_block)
    k_calls = len(wall[FAULTY]) / 1000
    result: dict[str, Any] = {
        "backend": name,
        "calls": len(wall[FAULTY]),
        "rounds": rounds,
        "wall": {n: stats(wall[k]) for k, n in enumerate(_NAMES)},
        "app_thread_cpu": {n: stats(cpu[k]) for k, n in enumerate(_NAMES)},
        "added_p99_vs_healthy_ms": {
            "median": statistics.median(added),
            "best": min(added),
            "pooled": percentile(wall[FAULTY], 0.99) - percentile(wall[HEALTHY], 0.99),
            "ci95": ci,
        },
        "added_p99_vs_none_ms": {
            "median": statistics.median(added_none),
            "best": min(added_none),
            "pooled": percentile(wall[FAULTY], 0.99) - percentile(wall[NONE], 0.99),
            "ci95": added_p99_ci(wall[FAULTY], wall[NONE], block=ci_block),
        },
        "healthy_added_p99_vs_none_ms": {
            "median": statistics.median(ref_none),
            "best": min(ref_none),
            "pooled": percentile(wall[HEALTHY], 0.99) - percentile(wall[NONE], 0.99),
            "ci95": added_p99_ci(wall[HEALTHY], wall[NONE], block=ci_block),
        },
        "added_cpu_p99_vs_healthy_ms": percentile(cpu[FAULTY], 0.99)
        - percentile(cpu[HEALTHY], 0.99),
        "exceptions": {"faulty": everything.exceptions[0], "healthy": everything.exceptions[1]},
        "wrong_answers": sum(everything.wrong),
        "dropped": dropped,
        "healthy_dropped": healthy_dropped,
        "drop_warnings": drop_warnings,
        "log_records": log_counts,
        "log_examples": examples,
        "open_runs_after": open_runs,
        "export_thread_cpu_ms_per_1k_calls": {
            "faulty": _per_k(_delta(cpu1[0], cpu0[0]), k_calls),
            "healthy": _per_k(_delta(cpu1[1], cpu0[1]), k_calls),
        },
        "export_thread_cpu_us_per_span": {
            "faulty": _per_span(_delta(cpu1[0], cpu0[0]), spans1[0] - spans0[0]),
            "healthy": _per_span(_delta(cpu1[1], cpu0[1]), spans1[1] - spans0[1]),
        },
        "spans_per_call": round((spans1[0] - spans0[0]) / max(1, len(wall[FAULTY])), 2),
        "received": received,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    result["checks"] = _checks(result)
    result["calibration"] = _calibration(result)
    result["verdict"] = "control" if name == "healthy" else verdict(ci)
    return result


def _per_k(seconds: float | None, k_calls: float) -> float | None:
    return None if seconds is None or k_calls <= 0 else round(seconds * 1000 / k_calls, 1)


def _per_span(seconds: float | None, spans: int) -> float | None:
    return None if seconds is None or spans <= 0 else round(seconds * 1e6 / spans, 1)


def _checks(r: dict[str, Any]) -> list[str]:
    """What failed besides latency: exceptions, wrong answers, drops and the single warning."""
    failed = []
    if any(r["exceptions"].values()):
        failed.append(f"exceptions {r['exceptions']}")
    if r["wrong_answers"]:
        failed.append(f"{r['wrong_answers']} wrong answers")
    if r["healthy_dropped"]:
        failed.append(f"the healthy reference dropped {r['healthy_dropped']}")
    if r["open_runs_after"]:
        failed.append(f"{r['open_runs_after']} runs left open")
    if r["log_records"].get("langchain_core"):
        failed.append("LangChain logged callback errors")
    faulty = r["backend"] != "healthy"
    if faulty and not r["dropped"]:
        failed.append("no span was dropped (the fault did not happen?)")
    if not faulty and r["dropped"]:
        failed.append(f"healthy control dropped {r['dropped']}")
    if r["drop_warnings"] != (1 if faulty else 0):
        failed.append(f"{r['drop_warnings']} drop warnings (expected {1 if faulty else 0})")
    return failed


def _calibration(r: dict[str, Any]) -> str | None:
    """The control compares two identical pipelines: its interval should contain 0."""
    lo, hi = r["added_p99_vs_healthy_ms"]["ci95"]
    if r["backend"] == "healthy" and not lo <= 0 <= hi:
        return f"two identical pipelines differ: 95% interval {lo:+.2f}..{hi:+.2f} ms"
    return None


def run(params: Params, log: Callable[[str], None]) -> dict[str, Any]:
    from genai_trace_langchain import LangChainInstrumentor, _hook
    from tests.benchmarks._fakes import ANSWER
    from tests.benchmarks._workloads import build

    if _hook.env_enabled():  # `none` would then trace too
        raise RuntimeError(f"unset {_hook.ENV_VAR} to run the faults benchmark")
    started = time.perf_counter()
    workload = build(WORKLOAD)
    expected = ANSWER
    result: dict[str, Any] = {
        "workload": WORKLOAD,
        "params": {
            "calls": params.calls,
            "rounds": params.rounds,
            "warmup": params.warmup,
            "block": params.block,
            "backends": list(params.backends),
            "reference_encoder": params.reference_encoder,
        },
        "target_added_p99_ms": TARGET_ADDED_P99_MS,
        "loadavg_at_start": os.getloadavg(),
        "backends": [],
    }
    with capture_logs() as logs, backend("healthy") as (base_url, received):
        ref = build_pipeline(
            base_url,
            "genai-trace-faults-reference",
            with_handler=False,
            encoder=params.reference_encoder,
        )
        instrumentor = LangChainInstrumentor()
        instrumentor.instrument(
            tracer_provider=ref.tracer_provider,
            meter_provider=ref.meter_provider,
            logger_provider=ref.logger_provider,
        )
        try:
            ref.handler = instrumentor.handler  # the faulty pipelines' handlers are the same type
            if ref.handler is None:
                raise RuntimeError("LangChainInstrumentor().instrument() did not install a handler")
            first = workload.run()
            if first != expected:
                raise RuntimeError(f"{WORKLOAD} answered {first!r}")
            for name in params.backends:
                log(f"faults: backend {name} ({time.perf_counter() - started:.0f}s)")
                result["backends"].append(
                    _measurebackend(name, workload.run, expected, ref, params, logs, log)
                )
            result["reference_dropped"] = ref.dropped()
        finally:
            instrumentor.uninstrument()
            ref.shutdown()  # flushes to the healthy backend
            workload.close()
    result["reference_received"] = received
    result["loadavg_at_end"] = os.getloadavg()
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["verdict"] = overall(result["backends"])
    return result
