"""One fresh process: one instrumentation (or the SDK floor), one processor, some workloads.

Run by the runner as ``python -m tests.benchmarks._worker < SPEC_JSON``; prints one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import traceback
import warnings
from typing import Any

# The frameworks' own deprecation chatter is not what we measure (and warnings cost time).
warnings.simplefilter("ignore")


def _run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    from tests.benchmarks._instrumentations import prepare_env

    prepare_env(spec.get("instrumentation", "none"))
    if spec["mode"] == "floor":
        return _floor(spec)
    if spec["mode"] == "memory":
        return _memory(spec)
    return _timing(spec)


def _timing(spec: dict[str, Any]) -> dict[str, Any]:
    from tests.benchmarks._instrumentations import Unavailable, install
    from tests.benchmarks._measure import (
        Pipeline,
        capture_tree,
        measure,
        sdk_in_place,
        tree_recorder,
    )
    from tests.benchmarks._workloads import FRAMEWORK, Workload, build

    name = spec["instrumentation"]
    pipeline = Pipeline(spec["processor"]) if name != "none" else None
    provider = pipeline.provider if pipeline is not None else None
    out: dict[str, Any] = {}
    built: dict[str, Workload] = {}
    installed: dict[str, str | None] = {}
    for workload in spec["workloads"]:
        framework = FRAMEWORK[workload]
        if framework not in installed:
            try:
                if provider is None:
                    from opentelemetry.sdk.trace import TracerProvider

                    provider = TracerProvider()
                install(name, framework, provider)
                installed[framework] = None
            except Unavailable as exc:
                installed[framework] = str(exc)
        if installed[framework] is not None:
            out[workload] = {"error": installed[framework]}
            continue
        try:
            w = build(workload)
            t = measure(
                w.run,
                pipeline,
                warmup_s=spec["warmup_s"],
                repeats=spec["repeats"],
                repeat_s=spec["repeat_s"],
            )
            out[workload] = dict(t.__dict__)
            built[workload] = w
        except Exception as exc:
            out[workload] = {"error": f"{type(exc).__name__}: {exc}", "tb": traceback.format_exc()}
    # After every workload of this process was timed: the extra passes below must not change the
    # pipeline the timings saw (the tree recorder stays on the provider for good).
    if spec.get("capture_tree") and pipeline is not None:
        for workload, w in built.items():
            out[workload]["sdk_in_place_us"] = sdk_in_place(w.run, spec.get("sdk_invocations", 50))
        memory = tree_recorder(pipeline.provider)
        for workload, w in built.items():
            out[workload]["tree"] = capture_tree(pipeline.provider, w.run, memory)
    return out


def _floor(spec: dict[str, Any]) -> dict[str, Any]:
    from tests.benchmarks._measure import Pipeline, measure, replayer

    out: dict[str, Any] = {}
    for key, tree in spec["trees"].items():
        pipeline = Pipeline(spec["processor"])
        t = measure(
            replayer(tree, pipeline.provider),
            pipeline,
            warmup_s=spec["warmup_s"],
            repeats=spec["repeats"],
            repeat_s=spec["repeat_s"],
        )
        out[key] = dict(t.__dict__)
        pipeline.provider.shutdown()
    return out


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def _memory(spec: dict[str, Any]) -> dict[str, Any]:
    from tests.benchmarks._instrumentations import install
    from tests.benchmarks._measure import Pipeline
    from tests.benchmarks._memstats import counting_thread_starts, malloc_kb, pymalloc_arenas
    from tests.benchmarks._workloads import FRAMEWORK, build

    pipeline = Pipeline("batch")
    install(spec["instrumentation"], FRAMEWORK[spec["workload"]], pipeline.provider)
    w = build(spec["workload"])
    n, warmup, samples = spec["invocations"], spec["warmup"], spec["samples"]
    every = max(1, n // samples)
    telemetries: list[Any] = []
    max_open = 0
    rss: list[tuple[int, int]] = []
    # Beside RSS: the interpreter's live allocations (every PyObject/PyMem block, any size) and
    # the GC-tracked objects. RSS growing while both stay flat is below Python's objects.
    blocks: list[tuple[int, int]] = []
    objects: list[tuple[int, int]] = []
    # Below those, the allocators (see _memstats): malloc's bytes in use and held free (None off
    # glibc), pymalloc's arenas, and threads the workload starts (each can get a malloc arena).
    malloc_in_use: list[tuple[int, int]] = []
    malloc_free: list[tuple[int, int]] = []
    arenas: list[tuple[int, int]] = []
    threads_at_warmup = 0
    t0 = time.perf_counter()

    def after(i: int) -> None:
        nonlocal max_open, telemetries, threads_at_warmup
        if i == warmup - 1 and spec["instrumentation"].startswith("genai_trace"):
            from genai_trace_core import Telemetry

            gc.collect()
            telemetries = [o for o in gc.get_objects() if isinstance(o, Telemetry)]
        if i == warmup - 1:
            threads_at_warmup = starts[0]
        if i >= warmup:
            open_now = sum(t.open_count() for t in telemetries)
            max_open = max(max_open, open_now)
            if (i - warmup) % every == 0 or i == warmup + n - 1:
                gc.collect()
                rss.append((i - warmup, _rss_kb()))
                blocks.append((i - warmup, sys.getallocatedblocks()))
                objects.append((i - warmup, len(gc.get_objects())))
                heap = malloc_kb()
                if heap is not None:
                    malloc_in_use.append((i - warmup, heap["in_use"]))
                    malloc_free.append((i - warmup, heap["held_free"]))
                count = pymalloc_arenas()
                if count is not None:
                    arenas.append((i - warmup, count))

    if spec["async"] and w.arun is None:
        return {"error": f"{spec['workload']} has no async variant"}
    with counting_thread_starts() as starts:
        if spec["async"]:
            arun = w.arun
            assert arun is not None

            async def loop() -> None:
                for i in range(warmup + n):
                    await arun()
                    after(i)

            asyncio.run(loop())
        else:
            for i in range(warmup + n):
                w.run()
                after(i)
    pipeline.provider.force_flush()
    half = [kb for i, kb in rss if i >= n // 2]

    def second_half(series: list[tuple[int, int]]) -> int:
        kept = [v for i, v in series if i >= n // 2]
        return kept[-1] - kept[0] if kept else 0

    return {
        "invocations": n,
        "warmup": warmup,
        "seconds": round(time.perf_counter() - t0, 1),
        "rss_kb": rss,
        "rss_growth_kb": rss[-1][1] - rss[0][1],
        "rss_growth_second_half_kb": half[-1] - half[0] if half else 0,
        "blocks_growth_second_half": second_half(blocks),
        "objects_growth_second_half": second_half(objects),
        "malloc_kb": {"in_use": malloc_in_use, "held_free": malloc_free},
        "malloc_in_use_growth_second_half_kb": second_half(malloc_in_use),
        "malloc_held_free_growth_second_half_kb": second_half(malloc_free),
        "pymalloc_arenas": arenas,
        "pymalloc_arenas_growth_second_half": second_half(arenas),
        "threads_started_per_invocation": round((starts[0] - threads_at_warmup) / n, 3),
        "telemetry_instances": len(telemetries),
        "registry_max_open_after_invocation": max_open,
        "registry_open_at_end": sum(t.open_count() for t in telemetries),
        "spans_exported": pipeline.exported(),
    }


def main() -> None:
    spec = json.loads(sys.stdin.read())
    try:
        result = _run_spec(spec)
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}", "tb": traceback.format_exc()}
    sys.stdout.write("\n" + json.dumps({"result": result}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
