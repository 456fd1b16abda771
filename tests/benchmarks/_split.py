"""Where genai-trace's overhead sits, in place versus hot: ``python -m tests.benchmarks._split``.

For each workload, three fresh processes (modes interleaved over ``--rounds``; process CPU time
per invocation, median of the repeats):

* ``noop``: the no-op handler (what the framework's callback dispatch costs by itself);
* ``mapping``: genai-trace installed, with core's lifecycle entry points (``Telemetry.start``,
  ``end``, ``fail``, ``link``, ``chunk``, ``set_attributes``, ``add_event``) replaced by no-ops:
  what the integration's own callback work costs (mapping, prompts, the embeddings wrapper);
* ``full``: genai-trace as shipped.

``full - mapping`` is core's span lifecycle *in place* (between the framework's own steps).
Then ``hot``: a 10-span tree (a root, nine steps, each activated) through core's ``Telemetry``,
back to back, against the bare SDK doing the same starts, activations and ends: the same
lifecycle *hot*. The ratio of the two per-span costs says how much of core's cost is the work
itself and how much is running it between a framework's steps (cold caches and branches).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
import warnings
from typing import Any

from tests.benchmarks._runner import run_module
from tests.benchmarks._workloads import WORKLOADS

MODES = ("noop", "mapping", "full")
_STUBBED = ("start", "end", "fail", "link", "chunk", "set_attributes", "add_event")


def _one(workload: str, mode: str, invocations: int, repeats: int) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    from tests.benchmarks._instrumentations import install, prepare_env
    from tests.benchmarks._measure import Pipeline
    from tests.benchmarks._workloads import FRAMEWORK, build

    name = "noop" if mode == "noop" else "genai_trace"
    prepare_env(name)
    pipeline = Pipeline("batch")
    install(name, FRAMEWORK[workload], pipeline.provider)
    if mode == "mapping":
        from genai_trace_core.lifecycle._telemetry import Telemetry

        for attr in _STUBBED:
            setattr(Telemetry, attr, lambda self, *a, **k: None)
    w = build(workload)
    for _ in range(max(50, invocations // 2)):
        w.run()
    per_inv = []
    for _ in range(repeats):
        t = time.process_time_ns()
        for _ in range(invocations):
            w.run()
        per_inv.append((time.process_time_ns() - t) / invocations / 1000)
    spans = pipeline.exported() / max(1, (max(50, invocations // 2) + repeats * invocations))
    return {"us": statistics.median(per_inv), "spans": spans}


def _hot(trees: int, repeats: int) -> dict[str, float]:
    """µs per span: core's Telemetry vs the bare SDK, the same 10-span tree back to back."""
    warnings.simplefilter("ignore")
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    from genai_trace_core import Operation, OperationKind, Telemetry
    from tests.benchmarks._measure import Pipeline

    pipeline = Pipeline("batch")
    tel = Telemetry(tracer_provider=pipeline.provider)
    tracer = pipeline.provider.get_tracer("bare")
    ids = [uuid.uuid4() for _ in range(10)]

    def ours() -> None:
        root = ids[0]
        op = Operation(OperationKind.INVOKE_WORKFLOW, name="rag", framework="langchain")
        tel.start(root, op, activate=True, root=True)
        for i in range(1, 10):
            step = Operation(OperationKind.STEP, name=f"s{i}", run_type="chain", framework="lc")
            tel.start(ids[i], step, parent_run_id=root, activate=True)
            tel.end(ids[i])
        tel.end(root)

    def bare() -> None:
        r = tracer.start_span("invoke_workflow rag", attributes={"gen_ai.operation.name": "x"})
        ctx = trace.set_span_in_context(r)
        token = otel_context.attach(ctx)
        for i in range(1, 10):
            s = tracer.start_span(f"s{i}", context=ctx, attributes={"genai_trace.run.name": "s"})
            inner = otel_context.attach(trace.set_span_in_context(s, ctx))
            otel_context.detach(inner)
            s.end()
        otel_context.detach(token)
        r.end()

    out: dict[str, list[float]] = {"ours": [], "bare": []}
    for fn in (ours, bare):
        for _ in range(trees // 4):
            fn()
    for _ in range(repeats):
        for key, fn in (("ours", ours), ("bare", bare)):
            t = time.process_time_ns()
            for _ in range(trees):
                fn()
            out[key].append((time.process_time_ns() - t) / trees / 10 / 1000)
    return {k: statistics.median(v) for k, v in out.items()}


def _spawn(args: list[str]) -> dict[str, Any]:
    return run_module("tests.benchmarks._split", args)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks._split")
    ap.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=["lc_rag", "li_query"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--invocations", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--one", nargs=2, metavar=("WORKLOAD", "MODE"), help=argparse.SUPPRESS)
    ap.add_argument("--hot", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], args.one[1], args.invocations, args.repeats)))
        return 0
    if args.hot:
        print(json.dumps(_hot(args.invocations, args.repeats)))
        return 0
    common = ["--invocations", str(args.invocations), "--repeats", str(args.repeats)]
    hot = _spawn(["--hot", "--invocations", "1000", "--repeats", str(args.repeats)])
    hot_span = hot["ours"]
    print(f"hot: core {hot['ours']:.1f} µs/span, bare SDK {hot['bare']:.1f} µs/span")
    print("| workload | noop µs | mapping µs | full µs | spans | core in place µs/span | ÷ hot |")
    print("|---|---|---|---|---|---|---|")
    for wl in args.workloads:
        runs: dict[str, list[float]] = {m: [] for m in MODES}
        spans = 0.0
        for _ in range(args.rounds):
            for mode in MODES:
                r = _spawn(["--one", wl, mode, *common])
                runs[mode].append(r["us"])
                if mode == "full":
                    spans = r["spans"]
        med = {m: statistics.median(v) for m, v in runs.items()}
        core = (med["full"] - med["mapping"]) / spans if spans else float("nan")
        print(
            f"| {wl} | {med['noop']:.0f} | {med['mapping']:.0f} | {med['full']:.0f} | "
            f"{spans:.1f} | {core:.1f} | {core / hot_span:.1f}x |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
