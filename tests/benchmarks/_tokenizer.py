"""Issue 14, target 3: tokenizer work on the app's threads (``--tokenizer``).

Two parts, printed as two tables:

* **Counts in place** (one fresh process per workload and mode, modes alternated over rounds;
  counted over the invocations, after the workload's index was built):
  ``lc_rag`` and ``li_query`` traced by genai-trace at its defaults (``default``) and with offline
  counts opted in (``GENAI_TRACE_ESTIMATE_USAGE=true``). Core's tokenizer has one door,
  ``usage._tokens._loader``: it is replaced by one that wraps the real encoding and records every
  load and every ``encode_ordinary`` with its thread. Also printed: whether anything imported
  tiktoken, every tiktoken encode by anyone (LlamaIndex counts prompt tokens itself: the
  framework's, in ``none`` too) in a second pass with ``tiktoken.Encoding`` patched, and the CPU
  time of the run-end usage step (``usage_of_run``, thread CPU time) for the runs it estimated.
* **The estimate step itself, paired in one process**: ``estimate_usage`` for the embeddings
  query (30 characters) and a 1.2 KB prompt, ``ceil(chars/4)`` against tiktoken warm (repeated on
  one thread), tiktoken in place (after a framework invocation, same thread) and tiktoken's first
  call on a new thread (one new thread per sample), interleaved sample by sample.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

WORKLOADS = ("lc_rag", "li_query")
MODES = ("default", "opt-in")
QUERY = "What is the capital of France?"
PROMPT = ("Paris is the capital of France. Rivers flow into the sea. " * 21)[:1200]


def _count(workload: str, mode: str, invocations: int) -> dict[str, Any]:
    """In a fresh process: the counts and the usage step's CPU time for one workload and mode."""
    if mode == "opt-in":
        os.environ["GENAI_TRACE_ESTIMATE_USAGE"] = "true"
    from opentelemetry.sdk.trace import TracerProvider

    from genai_trace_core.lifecycle import _finish
    from genai_trace_core.usage import _tokens
    from tests.benchmarks import _instrumentations, _workloads

    main = threading.main_thread()
    ours: Counter[str] = Counter()
    loads: list[str] = []

    def loader(name: str) -> Any:
        loads.append(name)
        real = _tokens._load(name)

        class Recording:
            def encode_ordinary(self, text: str) -> list[int]:
                ours["main" if threading.current_thread() is main else "other"] += 1
                return list(real.encode_ordinary(text))

        return Recording()

    _tokens._loader = loader
    step_ns: list[int] = []
    original = _finish.usage_of_run

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time_ns()
        usage = original(*args, **kwargs)
        if usage is not None and usage.source == "estimated":
            step_ns.append(time.thread_time_ns() - t0)
        return usage

    _finish.usage_of_run = timed  # type: ignore[assignment]
    _instrumentations.prepare_env("genai_trace")
    _instrumentations.install("genai_trace", _workloads.FRAMEWORK[workload], TracerProvider())
    wl = _workloads.build(workload)
    ours.clear()  # building the index embedded its documents (traced): count invocations only
    step_ns.clear()
    for _ in range(invocations):
        wl.run()
    imported = "tiktoken" in sys.modules
    estimates = len(step_ns)
    our_encodes = dict(ours)
    # Second pass: every tiktoken encode in the process, ours or the framework's.
    import tiktoken

    everyone: Counter[str] = Counter()
    for method in ("encode", "encode_ordinary", "encode_batch", "encode_ordinary_batch"):
        real_method = getattr(tiktoken.Encoding, method)

        def counting(self: Any, *a: Any, _m: Callable[..., Any] = real_method, **k: Any) -> Any:
            everyone["main" if threading.current_thread() is main else "other"] += 1
            return _m(self, *a, **k)

        setattr(tiktoken.Encoding, method, counting)
    for _ in range(invocations):
        wl.run()
    wl.close()
    return {
        "workload": workload,
        "mode": mode,
        "invocations": invocations,
        "loads": loads,
        "our_encodes": our_encodes,
        "tiktoken_imported": imported,
        "all_encodes_second_pass": dict(everyone),
        "estimates": estimates,
        "estimate_us_median": statistics.median(step_ns[:estimates]) / 1e3 if step_ns else None,
        "estimate_us_first": step_ns[0] / 1e3 if step_ns else None,
    }


def counts(
    n: int, rounds: int, log: Callable[[str], None], workloads: tuple[str, ...] = WORKLOADS
) -> list[dict[str, Any]]:
    out = []
    for r in range(rounds):
        for workload in workloads:
            for mode in MODES if r % 2 == 0 else MODES[::-1]:
                log(f"tokenizer counts: round {r + 1}/{rounds} {workload} {mode}")
                proc = subprocess.run(
                    [sys.executable, "-m", "tests.benchmarks._tokenizer", workload, mode, str(n)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={k: v for k, v in os.environ.items() if k != "GENAI_TRACE_ESTIMATE_USAGE"},
                )
                out.append(json.loads(proc.stdout.strip().splitlines()[-1]) | {"round": r})
    return out


def _time_ns(fn: Callable[[], Any]) -> int:
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


def _on_new_thread(fn: Callable[[], Any]) -> tuple[int, int]:
    """(first call, second call) of ``fn`` on a brand-new thread, ns."""
    got: list[int] = []

    def body() -> None:
        got.append(_time_ns(fn))
        got.append(_time_ns(fn))

    t = threading.Thread(target=body)
    t.start()
    t.join()
    return got[0], got[1]


def micro(samples: int, log: Callable[[str], None]) -> dict[str, dict[str, float]]:
    """Median µs per estimate for each text and method, interleaved sample by sample."""
    from genai_trace_core.usage import estimate_usage
    from tests.benchmarks._workloads import build

    model = "text-embedding-3-small"
    frame = build("lc_rag")  # uninstrumented: the framework work between two estimates
    estimate_usage(model, [QUERY])  # load the encoding outside the measurement
    result: dict[str, dict[str, float]] = {}
    for label, texts in (("query 30 chars", [QUERY]), ("prompt 1.2 KB", [PROMPT])):
        log(f"tokenizer micro: {label}")

        def cheap(t: list[str] = texts) -> Any:
            return estimate_usage(model, t, exact=False)

        def exact(t: list[str] = texts) -> Any:
            return estimate_usage(model, t)

        ns: dict[str, list[int]] = {}
        for i in range(samples):
            for name, fn in (("chars/4", cheap), ("tiktoken", exact))[:: 1 if i % 2 else -1]:
                for _ in range(3):
                    fn()
                ns.setdefault(f"{name} warm", []).append(_time_ns(fn))
                frame.run()
                ns.setdefault(f"{name} in place", []).append(_time_ns(fn))
                first, second = _on_new_thread(fn)
                ns.setdefault(f"{name} new thread, 1st call", []).append(first)
                ns.setdefault(f"{name} new thread, 2nd call", []).append(second)
        result[label] = {k: statistics.median(v) / 1e3 for k, v in ns.items()}
    frame.close()
    return result


def table(rows: list[dict[str, Any]], mic: dict[str, dict[str, float]]) -> str:
    lines = [
        "| workload | mode | our loads | our encodes (main/other threads) | tiktoken imported | "
        "all tiktoken encodes, 2nd pass (main/other) | estimates/inv | usage step CPU µs per "
        "estimate (median; first) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        o, a, n = r["our_encodes"], r["all_encodes_second_pass"], r["invocations"]
        med, first = r["estimate_us_median"], r["estimate_us_first"]
        step = "-" if med is None else f"{med:.1f}; {first:.0f}"
        lines.append(
            f"| {r['workload']} | {r['mode']} | {len(r['loads'])} | "
            f"{o.get('main', 0)}/{o.get('other', 0)} | {r['tiktoken_imported']} | "
            f"{a.get('main', 0)}/{a.get('other', 0)} | {r['estimates'] / n:.0f} | "
            f"{step} |"
        )
    heads = list(next(iter(mic.values())))
    lines += ["", "| estimate_usage µs (median) | " + " | ".join(heads) + " |"]
    lines.append("|---" * (len(heads) + 1) + "|")
    for label, vals in mic.items():
        lines.append(f"| {label} | " + " | ".join(f"{vals[h]:.1f}" for h in heads) + " |")
    return "\n".join(lines)


def run(invocations: int, rounds: int, samples: int, log: Callable[[str], None]) -> dict[str, Any]:
    rows = counts(invocations, rounds, log)
    bad = [r for r in rows if r["mode"] == "default" and (r["loads"] or r["our_encodes"])]
    return {"counts": rows, "micro": micro(samples, log), "default_mode_tokenizer_free": not bad}


if __name__ == "__main__":
    print(json.dumps(_count(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
