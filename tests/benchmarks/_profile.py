"""Where genai-trace's time goes, per callback: ``python -m tests.benchmarks._profile``.

``--timers`` (the precise mode) wraps each callback and core step with a wall-clock timer and
prints calls per invocation and the median µs per call (medians shrug off other processes on a
shared machine). The default is cProfile on a thread-CPU clock, restricted to genai-trace's own
functions (cumulative and own µs; cProfile inflates absolute times, use it for ranking).
``--pyinstrument`` prints a sampled call tree instead (bench venv only).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import warnings
from typing import Any

from tests.benchmarks._instrumentations import install, prepare_env
from tests.benchmarks._measure import Pipeline
from tests.benchmarks._workloads import FRAMEWORK, WORKLOADS, build

warnings.simplefilter("ignore")
OURS = ("genai_trace_core", "genai_trace_langchain", "genai_trace_llamaindex")


def _short(path: str) -> str:
    for pkg in OURS:
        if f"/{pkg}/" in path:
            return pkg + "/" + path.split(f"/{pkg}/", 1)[1]
    return path


def profile(workload: str, instrumentation: str, invocations: int, processor: str, top: int) -> str:
    prepare_env(instrumentation)
    pipeline = Pipeline(processor)
    install(instrumentation, FRAMEWORK[workload], pipeline.provider)
    w = build(workload)
    for _ in range(max(20, invocations // 10)):
        w.run()
    # CPU time of this thread: robust when other processes share the cores.
    prof = cProfile.Profile(time.thread_time_ns, 1e-9)
    prof.enable()
    for _ in range(invocations):
        w.run()
    prof.disable()
    stats = pstats.Stats(prof)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
        if not any(f"/{p}/" in path for p in OURS):
            continue
        rows.append((cumtime, tottime, ncalls, f"{_short(path)}:{line}:{func}"))
    rows.sort(reverse=True)
    out = [
        f"# {workload} / {instrumentation} / {processor}: {invocations} invocations under cProfile",
        f"{'cum µs/inv':>10} {'own µs/inv':>10} {'calls/inv':>9} {'cum µs/call':>11}  function",
    ]
    for cum, tot, n, name in rows[:top]:
        out.append(
            f"{cum / invocations * 1e6:10.1f} {tot / invocations * 1e6:10.1f} "
            f"{n / invocations:9.1f} {cum / n * 1e6:11.1f}  {name}"
        )
    return "\n".join(out)


def sampled(workload: str, instrumentation: str, invocations: int, processor: str) -> str:
    from pyinstrument import Profiler

    prepare_env(instrumentation)
    pipeline = Pipeline(processor)
    install(instrumentation, FRAMEWORK[workload], pipeline.provider)
    w = build(workload)
    for _ in range(max(20, invocations // 10)):
        w.run()
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(invocations):
        w.run()
    profiler.stop()
    text: str = profiler.output_text(unicode=False, color=False, show_all=False)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks._profile")
    ap.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    ap.add_argument("--instrumentation", default="genai_trace")
    ap.add_argument("--processor", default="batch", choices=("simple", "batch"))
    ap.add_argument("--invocations", type=int, default=300)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--pyinstrument", action="store_true")
    ap.add_argument("--timers", action="store_true", help="per-callback wall timers (medians)")
    args = ap.parse_args(argv)
    for wl in args.workloads:
        if args.timers:
            text = timers(wl, args.instrumentation, args.invocations, args.processor)
        elif args.pyinstrument:
            text = sampled(wl, args.instrumentation, args.invocations, args.processor)
        else:
            text = profile(wl, args.instrumentation, args.invocations, args.processor, args.top)
        sys.stdout.write(text + "\n\n")
        sys.stdout.flush()
    return 0


# --- per-callback timers ----------------------------------------------------------------------

_TIMED = (
    # (module, attribute path): callbacks first, then the core steps they call
    ("genai_trace_langchain._handler", "OpenTelemetryCallbackHandler.on_*"),
    ("genai_trace_llamaindex._dispatcher", "GenAISpanHandler.span_enter"),
    ("genai_trace_llamaindex._dispatcher", "GenAISpanHandler.span_exit"),
    ("genai_trace_llamaindex._dispatcher", "GenAISpanHandler.span_drop"),
    ("genai_trace_llamaindex._dispatcher", "GenAIEventHandler.handle"),
    ("genai_trace_core.lifecycle._telemetry", "Telemetry.start"),
    ("genai_trace_core.lifecycle._telemetry", "Telemetry.end"),
    ("genai_trace_core.lifecycle._telemetry", "Telemetry.chunk"),
    ("genai_trace_core.lifecycle._telemetry", "Telemetry.link"),
    ("genai_trace_core.lifecycle._finish", "end_span"),
    ("genai_trace_core.lifecycle._run_usage", "usage_of_run"),
    ("genai_trace_core.lifecycle._run_metrics", "record_run_metrics"),
    ("genai_trace_llamaindex._bridge", "Bridge.enter"),
    ("genai_trace_llamaindex._bridge", "Bridge.exit"),
    ("genai_trace_llamaindex._model_calls", "ModelCalls.chat_start"),
    ("genai_trace_llamaindex._model_calls", "ModelCalls.end"),
    ("genai_trace_llamaindex._model_calls", "ModelCalls.chunk"),
    ("genai_trace_llamaindex._model_calls", "ModelCalls.embedding_start"),
    ("genai_trace_llamaindex._model_calls", "ModelCalls.embedding_end"),
    ("genai_trace_llamaindex._map_models", "llm_operation"),
    ("genai_trace_llamaindex._map_models", "llm_outcome"),
    ("genai_trace_llamaindex._map_steps", "retrieval_operation"),
    ("genai_trace_llamaindex._map_models", "embeddings_operation"),
    ("genai_trace_llamaindex._map_models", "embeddings_outcome"),
    ("genai_trace_llamaindex._map_steps", "step_operation"),
    ("genai_trace_llamaindex._map_steps", "agent_operation"),
    ("genai_trace_llamaindex._map_steps", "tool_operation"),
    ("genai_trace_langchain._mapping", "inference_operation"),
    ("genai_trace_langchain._mapping", "inference_outcome"),
    ("genai_trace_langchain._mapping", "chain_operation"),
    ("genai_trace_langchain._mapping", "tool_operation"),
    ("genai_trace_langchain._mapping", "tool_outcome"),
    ("genai_trace_langchain._mapping", "retriever_operation"),
    ("genai_trace_langchain._mapping", "retriever_outcome"),
    ("genai_trace_core.lifecycle._context", "activate"),
    ("genai_trace_core.lifecycle._context", "deactivate"),
    ("genai_trace_core.lifecycle._registry", "BoundedRegistry.put_if_absent"),
    ("genai_trace_core.lifecycle._registry", "BoundedRegistry.pop"),
    ("opentelemetry.sdk.trace", "Tracer.start_span"),
    ("opentelemetry.sdk.trace", "Span.end"),
    ("genai_trace_core.usage._normalize", "normalize_usage"),
    ("genai_trace_core.usage._cost", "compute_cost"),
    ("genai_trace_core.lifecycle._sanitize", "clean_attributes"),
    ("genai_trace_core.lifecycle._attributes", "start_attributes"),
    ("genai_trace_core.lifecycle._attributes", "outcome_attributes"),
    ("genai_trace_core.lifecycle._attributes", "metric_base"),
)


def _wrap_all(stats: dict[str, list[int]]) -> None:
    import importlib
    import inspect

    clock = time.perf_counter_ns

    def timed(label: str, fn: Any) -> Any:
        samples = stats.setdefault(label, [])

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                samples.append(clock() - t0)

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper

    for modname, path in _TIMED:
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        if "." in path:
            cls_name, attr = path.split(".")
            cls = getattr(mod, cls_name, None)
            if cls is None:
                continue
            names = (
                [n for n in vars(cls) if n.startswith(attr[:-1])] if attr.endswith("*") else [attr]
            )
            for n in names:
                fn = vars(cls).get(n)
                if fn is None or not callable(fn) or inspect.iscoroutinefunction(fn):
                    continue
                setattr(cls, n, timed(f"{modname.split('.')[0]}:{cls_name}.{n}", fn))
            continue
        fn = getattr(mod, path, None)
        if fn is None:
            continue
        wrapped = timed(f"{modname}:{path}", fn)
        for other in list(sys.modules.values()):
            if getattr(other, "__name__", "").startswith(("genai_trace_", "opentelemetry.sdk")):
                for k, v in list(vars(other).items()):
                    if v is fn:
                        setattr(other, k, wrapped)


def timers(workload: str, instrumentation: str, invocations: int, processor: str) -> str:
    """Median and mean wall µs per call of each callback and core step (medians resist load)."""
    import statistics

    prepare_env(instrumentation)
    pipeline = Pipeline(processor)
    install(instrumentation, FRAMEWORK[workload], pipeline.provider)
    w = build(workload)
    stats: dict[str, list[int]] = {}
    _wrap_all(stats)
    for _ in range(max(20, invocations // 10)):
        w.run()
    for v in stats.values():
        v.clear()
    for _ in range(invocations):
        w.run()
    out = [
        f"# {workload} / {instrumentation} / {processor}: {invocations} invocations, timers",
        f"{'calls/inv':>9} {'median µs/call':>14} {'mean µs/call':>12} {'µs/inv':>8}  function",
    ]
    rows = []
    for label, samples in stats.items():
        if not samples:
            continue
        med = statistics.median(samples) / 1e3
        mean = statistics.fmean(samples) / 1e3
        n = len(samples) / invocations
        rows.append((med * n, n, med, mean, label))
    rows.sort(
        key=lambda r: (
            not r[4].startswith("genai_trace_langchain:OpenTelemetryCallback")
            and "Handler" not in r[4],
            -r[0],
        )
    )
    for per_inv, n, med, mean, label in rows:
        out.append(f"{n:9.1f} {med:14.1f} {mean:12.1f} {per_inv:8.0f}  {label}")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
