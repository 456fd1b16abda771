"""The overhead benchmark.

    python -m tests.benchmarks [--quick] [--out FILE.json] [--workloads ...]
                               [--instrumentations ...] [--memory] [--faults] [--tokenizer]

Overhead of genai-trace against no tracing, a no-op handler, the competitors and the raw-SDK
floor, on offline deterministic workloads; ``--memory`` runs the 100k-invocation RSS/registry test;
``--faults`` measures what a down, slow or failing OTLP backend adds to an app call (issue 6);
``--tokenizer`` counts tokenizer work on the app's threads (issue 14, target 3).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.benchmarks import _faults, _faults_report, _ratios, _report, _runner, _tokenizer
from tests.benchmarks._instrumentations import INSTRUMENTATIONS
from tests.benchmarks._measure import PROCESSORS
from tests.benchmarks._workloads import WORKLOADS

_DISTS = (
    "genai-trace-core",
    "genai-trace-langchain",
    "genai-trace-llamaindex",
    "langchain-core",
    "langgraph",
    "llama-index-core",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "pydantic",
    "wrapt",
    "openinference-instrumentation-langchain",
    "openinference-instrumentation-llama-index",
    "opentelemetry-instrumentation-langchain",
    "opentelemetry-instrumentation-llamaindex",
    "opentelemetry-instrumentation-genai-langchain",
    "opentelemetry-instrumentation-genai-llama-index",
    "opentelemetry-util-genai",
)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for d in _DISTS:
        try:
            versions[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            versions[d] = None
    digest = hashlib.sha256()
    for src in sorted(_runner.ROOT.glob("*/*/src/genai_trace_*/**/*.py")):
        digest.update(src.read_bytes())
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_at_start": load,
        "packages": versions,
        "genai_trace_source_sha256": digest.hexdigest()[:16],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1 round, batch only (< 2 minutes)")
    ap.add_argument("--out", type=Path, help="write every measurement and the summary as JSON")
    ap.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    ap.add_argument(
        "--instrumentations", nargs="+", choices=INSTRUMENTATIONS, default=list(INSTRUMENTATIONS)
    )
    ap.add_argument("--processors", nargs="+", choices=PROCESSORS, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument(
        "--metric",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: process CPU time incl. the batch thread (robust on a shared machine); wall",
    )
    ap.add_argument(
        "--process-per-workload",
        action="store_true",
        help="one process per (workload, instrumentation, processor) instead of one per "
        "(instrumentation, processor) running the workloads in turn (slower: imports each time)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--memory", action="store_true", help="RSS and registry over many invocations")
    ap.add_argument("--memory-invocations", type=int, default=100_000)
    ap.add_argument("--memory-workloads", nargs="+", choices=WORKLOADS, default=["lc_tools"])
    ap.add_argument("--memory-instrumentation", choices=INSTRUMENTATIONS, default="genai_trace")
    ap.add_argument(
        "--faults",
        action="store_true",
        help="latency added by a down/slow/500/429 OTLP backend (issue 6; about 3 minutes)",
    )
    ap.add_argument("--faults-calls", type=int, default=_faults.Params.calls)
    ap.add_argument("--faults-rounds", type=int, default=_faults.Params.rounds)
    ap.add_argument("--faults-warmup", type=int, default=_faults.Params.warmup)
    ap.add_argument(
        "--faults-block",
        type=int,
        default=_faults.Params.block,
        help="calls per pipeline per turn (1: call by call; e.g. 250: each pipeline's export "
        "thread works during its own calls)",
    )
    ap.add_argument(
        "--faults-backends", nargs="+", choices=_faults.BACKENDS, default=list(_faults.BACKENDS)
    )
    ap.add_argument(
        "--faults-reference-encoder",
        choices=("fast", "sdk"),
        default=_faults.Params.reference_encoder,
        help="span encoder of the healthy reference pipeline; sdk: the healthy arm pairs the fast "
        "encoder (configure()'s) with the SDK's (issue 14, target 4)",
    )
    ap.add_argument(
        "--tokenizer",
        action="store_true",
        help="tokenizer work on app threads, default vs opted-in offline counts (issue 14, "
        "target 3), and the estimate step paired in one process",
    )
    ap.add_argument("--tokenizer-invocations", type=int, default=200)
    ap.add_argument("--tokenizer-rounds", type=int, default=2)
    ap.add_argument("--tokenizer-samples", type=int, default=200)
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.time()
    result: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if args.tokenizer:
        result["tokenizer"] = _tokenizer.run(
            args.tokenizer_invocations, args.tokenizer_rounds, args.tokenizer_samples, log
        )
        print(_tokenizer.table(result["tokenizer"]["counts"], result["tokenizer"]["micro"]))
        ok = result["tokenizer"]["default_mode_tokenizer_free"]
        verdict = "PASS" if ok else "FAIL"
        print(f"\nno tokenizer on app threads by default (lc_rag, li_query): {verdict}")
    elif args.faults:
        fault_params = _faults.Params(
            calls=args.faults_calls,
            rounds=args.faults_rounds,
            warmup=args.faults_warmup,
            block=args.faults_block,
            backends=tuple(args.faults_backends),
            reference_encoder=args.faults_reference_encoder,
        )
        result["faults"] = _faults.run(fault_params, log)
        print(_faults_report.table(result["faults"]))
    elif args.memory:
        mem = _runner.run_memory(
            args.memory_workloads, args.memory_invocations, args.memory_instrumentation, log
        )
        result["memory"] = mem
        print(_report.memory_table(mem))
    else:
        params = _runner.QUICK if args.quick else _runner.FULL
        if args.rounds:
            params = dataclasses.replace(params, rounds=args.rounds)
        if args.process_per_workload:
            params = dataclasses.replace(params, per_workload_process=True)
        processors = args.processors or (["batch"] if args.quick else list(PROCESSORS))
        instrs = list(dict.fromkeys(["none", "noop", *args.instrumentations]))
        records = _runner.run_rounds(args.workloads, instrs, processors, params, args.seed, log)
        rows = _report.summarise(records, args.metric)
        ratios = _ratios.rows(records, args.metric)
        ts = _ratios.targets(ratios)
        result.update(
            params=dataclasses.asdict(params),
            metric=args.metric,
            processors=processors,
            records=records,
            summary=rows,
            ratios=ratios,
            targets=ts,
        )
        print(_report.table(rows, args.metric))
        print()
        print(_ratios.table(ratios))
        print()
        print(_ratios.targets_table(ts))
    result["seconds"] = round(time.time() - started, 1)
    print(
        f"\n{result['machine']['cpu']}, {result['machine']['cpus']} CPUs, "
        f"Python {result['machine']['python']}; {result['seconds']} s"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str))
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
