"""Plan the configurations, run each in a fresh subprocess, interleaved and shuffled by round."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPAN_EMITTING = ("genai_trace", "genai_trace_content", "openinference", "openllmetry", "otel")


@dataclass(frozen=True)
class Params:
    rounds: int
    warmup_s: float
    repeats: int
    repeat_s: float
    per_workload_process: bool
    baselines: int  # `none` runs per round


QUICK = Params(
    rounds=1, warmup_s=0.2, repeats=3, repeat_s=0.1, per_workload_process=False, baselines=1
)
FULL = Params(
    rounds=3, warmup_s=0.5, repeats=5, repeat_s=0.3, per_workload_process=False, baselines=2
)


def _env() -> dict[str, str]:
    """This environment for a benchmark subprocess: fixed hash seed, the repository importable
    (after nothing: a tree of packages put on ``PYTHONPATH`` is still found, ROOT holds none)."""
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_module(module: str, args: list[str], timeout: float = 900) -> dict[str, Any]:
    """``python -m module *args`` in a fresh process; its last line of output, read as JSON."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT, env=_env(), capture_output=True, text=True, check=True, timeout=timeout,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_worker(spec: dict[str, Any], timeout: float = 900) -> dict[str, Any]:
    env = _env()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks._worker"],
        input=json.dumps(spec),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith('{"result"'):
            result: dict[str, Any] = json.loads(line)["result"]
            return result
    return {"error": f"worker exited {proc.returncode}: {proc.stderr[-2000:]}"}


def _jobs(
    workloads: list[str], instrs: list[str], processors: list[str], params: Params
) -> list[dict[str, Any]]:
    configs: list[tuple[str, str]] = []
    for name in instrs:
        if name in ("none", "noop"):
            configs.extend([(name, "-")] * (params.baselines if name == "none" else 1))
        else:
            configs.extend((name, p) for p in processors)
    groups = [[w] for w in workloads] if params.per_workload_process else [workloads]
    return [
        {
            "mode": "timing",
            "instrumentation": name,
            "processor": proc if proc != "-" else "batch",
            "label": proc,
            "workloads": group,
            "warmup_s": params.warmup_s,
            "repeats": params.repeats,
            "repeat_s": params.repeat_s,
            "capture_tree": name in SPAN_EMITTING,
        }
        for name, proc in configs
        for group in groups
    ]


def run_rounds(
    workloads: list[str],
    instrs: list[str],
    processors: list[str],
    params: Params,
    seed: int,
    log: Any,
) -> list[dict[str, Any]]:
    """Every measurement as a flat record: round, workload, instrumentation, processor, timing."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for rnd in range(params.rounds):
        jobs = _jobs(workloads, instrs, processors, params)
        rng.shuffle(jobs)
        trees: dict[str, dict[str, Any]] = {p: {} for p in processors}
        for i, job in enumerate(jobs, 1):
            result = run_worker(job)
            elapsed = time.perf_counter() - started
            log(
                f"[round {rnd + 1}/{params.rounds} job {i}/{len(jobs)} {elapsed:6.0f}s] "
                f"{job['instrumentation']}/{job['label']} {','.join(job['workloads'])}"
            )
            if "error" in result:  # the whole worker failed (per-workload keys are names)
                result = {w: dict(result) for w in job["workloads"]}
            for workload in job["workloads"]:
                res = dict(result.get(workload, {"error": "missing"}))
                tree = res.pop("tree", None)
                if tree is not None and job["label"] in trees:
                    key = f"{workload}|{job['instrumentation']}"
                    trees[job["label"]].setdefault(key, tree)
                records.append(
                    {
                        "round": rnd,
                        "workload": workload,
                        "instrumentation": job["instrumentation"],
                        "processor": job["label"],
                        **res,
                        **({"tree": tree} if tree is not None and rnd == 0 else {}),
                    }
                )
        for proc, proc_trees in trees.items():
            if not proc_trees:
                continue
            spec = {
                "mode": "floor",
                "processor": proc,
                "trees": proc_trees,
                "warmup_s": params.warmup_s / 2,
                "repeats": params.repeats,
                "repeat_s": params.repeat_s / 2,
            }
            floor = run_worker(spec)
            log(f"[round {rnd + 1}] floor/{proc}: {len(proc_trees)} span trees replayed")
            for key, res in floor.items():
                if key == "error":
                    log(f"floor failed: {res}")
                    continue
                workload, name = key.split("|")
                records.append(
                    {
                        "round": rnd,
                        "workload": workload,
                        "instrumentation": f"floor:{name}",
                        "processor": proc,
                        **res,
                    }
                )
    return records


def run_memory(
    workloads: list[str], invocations: int, instrumentation: str, log: Any
) -> list[dict[str, Any]]:
    out = []
    for workload in workloads:
        for is_async in (False, True):
            spec = {
                "mode": "memory",
                "instrumentation": instrumentation,
                "workload": workload,
                "invocations": invocations,
                "warmup": min(2000, max(200, invocations // 20)),
                "samples": 40,
                "async": is_async,
            }
            t0 = time.perf_counter()
            res = run_worker(spec, timeout=3600 * 3)
            log(
                f"memory {workload} {'async' if is_async else 'sync'}: "
                f"{time.perf_counter() - t0:.0f}s"
            )
            out.append({"workload": workload, "async": is_async, **res})
    return out
