"""Garbage collection under tracing: ``python -m tests.benchmarks._gc_tail``.

A finished span waits in the batch processor's queue until its batch is exported; every
garbage-collected object it holds that survives a young collection is promoted, and CPython
runs a *full* collection once the promoted objects reach a quarter of the old generation: a
pause over every object of the process (LangChain, LlamaIndex, the SDK: 100-300 ms here), felt
by whichever request is running then. This counts, per workload and instrumentation, each in a
fresh process with the batch processor (an exporter that counts and drops) and the process's
own GC settings: collections per generation per 10,000 invocations, the full collections'
pauses, and the size of the old generation (what one full collection walks). ``--invocations``
should cover several full collections (20,000 on ``lc_rag``: about a minute).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import warnings
from typing import Any

from tests.benchmarks._runner import run_module
from tests.benchmarks._workloads import WORKLOADS


def _one(workload: str, instrumentation: str, invocations: int) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    from tests.benchmarks._instrumentations import install, prepare_env
    from tests.benchmarks._measure import Pipeline
    from tests.benchmarks._workloads import FRAMEWORK, build

    prepare_env(instrumentation)
    pipeline = Pipeline("batch")
    install(instrumentation, FRAMEWORK[workload], pipeline.provider)
    w = build(workload)
    for _ in range(300):
        w.run()
    gc.collect()
    pauses: list[list[float]] = [[], [], []]
    started = [0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter_ns()
            return
        pauses[info["generation"]].append((time.perf_counter_ns() - started[0]) / 1e6)

    old_generation = len(gc.get_objects(generation=2))
    gc.callbacks.append(on_gc)
    try:
        for _ in range(invocations):
            w.run()
    finally:
        gc.callbacks.remove(on_gc)
    per10k = 10_000 / invocations
    full = pauses[2]
    return {
        "workload": workload,
        "instrumentation": instrumentation,
        "collections_per_10k": [round(len(p) * per10k, 1) for p in pauses],
        "full_pause_ms_total_per_10k": round(sum(full) * per10k, 1),
        "full_pause_ms_max": round(max(full), 1) if full else 0.0,
        "old_generation_objects": old_generation,
        "spans": pipeline.exported(),
    }


def _spawn(workload: str, instrumentation: str, invocations: int) -> dict[str, Any]:
    args = ["--one", workload, instrumentation, "--invocations", str(invocations)]
    return run_module("tests.benchmarks._gc_tail", args, timeout=1800)


_HEADER = (
    "| workload | instrumentation | gen0 / gen1 / full collections per 10k "
    "| full-GC pause ms per 10k (max) | old generation objects |\n|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks._gc_tail")
    ap.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=["lc_rag", "li_query"])
    ap.add_argument("--instrumentations", nargs="+", default=["none", "noop", "genai_trace"])
    ap.add_argument("--invocations", type=int, default=20_000)
    ap.add_argument("--one", nargs=2, metavar=("WORKLOAD", "TRACER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], args.one[1], args.invocations)))
        return 0
    print(f"{args.invocations} invocations per process, after 300 of warm-up")
    print(_HEADER)
    for wl in args.workloads:
        for name in args.instrumentations:
            r = _spawn(wl, name, args.invocations)
            g0, g1, g2 = r["collections_per_10k"]
            print(
                f"| {wl} | {name} | {g0} / {g1} / {g2} | {r['full_pause_ms_total_per_10k']} "
                f"({r['full_pause_ms_max']}) | {r['old_generation_objects']} |"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
