"""Issue 14's ratios, per workload and tracer, with intervals from the paired rounds.

Each ratio is computed within a round (both sides measured in the same round, so the machine's
drift cancels), then summarised as the median over rounds and the range [min, max] of the
per-round values (with 3 rounds the range is the only honest interval):

* over-noop ÷ floor: (run - the round's ``noop`` run) ÷ the bare-SDK replay of the run's own
  span tree, replayed in the same round;
* SDK in place ÷ floor: CPU inside the SDK's own span calls where the tracer makes them ÷ floor;
* ours ÷ OpenLLMetry, ours ÷ OpenInference: genai-trace's overhead over ``none`` ÷ the
  competitor's, same round.

GenAI spans: spans of a GenAI operation, read from one invocation's span tree:
``gen_ai.operation.name`` among the semantic conventions' model, embeddings, retrieval, tool and
agent operations (not ``invoke_workflow`` or OpenLLMetry's ``execute_task``), or an OpenInference
span kind of the same families (``LLM``, ``EMBEDDING``, ``RETRIEVER``, ``RERANKER``, ``TOOL``,
``AGENT``; not ``CHAIN`` or ``PROMPT``). Spans under other names (OpenLLMetry's
``vector_db_retrieve``) are not counted. A GenAI span whose parent is a GenAI span of the same
operation is the same call seen twice, not another one, and counts once: OpenInference mirrors
LlamaIndex's dispatcher spans (``retrieve`` over ``_retrieve``, ``get_query_embedding`` over
``_get_query_embedding``, ``predict`` over ``chat``); the total span count keeps them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

GENAI_OPERATIONS = frozenset(
    {
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "retrieval",
        "execute_tool",
        "invoke_agent",
        "create_agent",
    }
)
OPENINFERENCE_KINDS = frozenset({"LLM", "EMBEDDING", "RETRIEVER", "RERANKER", "TOOL", "AGENT"})
RIVALS = {"openllmetry": "OpenLLMetry", "openinference": "OpenInference"}
# Issue 14's targets: over noop <= N x floor (by framework), <= a fraction of each rival's overhead.
FLOOR_TARGET = {"lc": 2.0, "lg": 2.0, "li": 3.0}
RIVAL_TARGET = {"openllmetry": 0.5, "openinference": 0.25}
TRACERS = ("genai_trace", "genai_trace_content", "openinference", "openllmetry", "otel")

Interval = tuple[float, float, float]  # median, min, max over rounds


def genai_spans(tree: list[dict[str, Any]]) -> int:
    """How many GenAI operations ``tree`` (see :func:`tests.benchmarks._measure.capture_tree`)
    has spans for: GenAI spans, a mirror directly under its own kind counted once (module
    docstring)."""
    kinds = [_genai_kind(node) for node in tree]
    n = 0
    for node, kind in zip(tree, kinds, strict=True):
        parent = node.get("parent", -1)
        if kind is not None and (parent < 0 or kinds[parent] != kind):
            n += 1
    return n


def _genai_kind(node: dict[str, Any]) -> str | None:
    attrs = node.get("attributes") or {}
    op = attrs.get("gen_ai.operation.name")
    if op in GENAI_OPERATIONS:
        return str(op)
    kind = attrs.get("openinference.span.kind")
    return f"openinference:{kind}" if kind in OPENINFERENCE_KINDS else None


def _interval(values: list[float]) -> Interval | None:
    return (statistics.median(values), min(values), max(values)) if values else None


def _per_round(records: list[dict[str, Any]], key: str) -> dict[tuple[str, str, str], Any]:
    """(workload, instrumentation, processor) -> {round: median value of that round}."""
    by: dict[tuple[str, str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if "error" in r or r.get(key) is None:
            continue
        by[(r["workload"], r["instrumentation"], r["processor"])][r["round"]].append(r[key])
    return {k: {rnd: statistics.median(v) for rnd, v in d.items()} for k, d in by.items()}


def _div(a: dict[int, float], b: dict[int, float]) -> list[float]:
    return [a[r] / b[r] for r in a if r in b and b[r] > 0]


def _minus(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    return {r: a[r] - b[r] for r in a if r in b}


def rows(records: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """One row per (workload, tracer, processor) that emitted spans."""
    us = _per_round(records, "cpu_us_per_inv" if metric == "cpu" else "us_per_inv")
    in_place = _per_round(records, "sdk_in_place_us")
    trees = {
        (r["workload"], r["instrumentation"], r["processor"]): r["tree"]
        for r in records
        if r.get("tree") is not None
    }
    out: list[dict[str, Any]] = []
    for (w, name, proc), runs in us.items():
        if name not in TRACERS:
            continue
        none = us.get((w, "none", "-"), {})
        noop = us.get((w, "noop", "-"), {})
        floor = us.get((w, f"floor:{name}", proc), {})
        over_none = _minus(runs, none)
        tree = trees.get((w, name, proc))
        row: dict[str, Any] = {
            "workload": w,
            "instrumentation": name,
            "processor": proc,
            "spans": len(tree) if tree is not None else None,
            "genai_spans": genai_spans(tree) if tree is not None else None,
            "over_noop_div_floor": _interval(_div(_minus(runs, noop), floor)),
            "sdk_in_place_div_floor": _interval(_div(in_place.get((w, name, proc), {}), floor)),
        }
        for rival in RIVALS:
            theirs = _minus(us.get((w, rival, proc), {}), none)
            row[f"div_{rival}"] = (
                _interval(_div(over_none, theirs)) if name.startswith("genai_trace") else None
            )
        out.append(row)
    order = {n: i for i, n in enumerate(TRACERS)}
    out.sort(
        key=lambda r: (_workload_index(r["workload"]), r["processor"], order[r["instrumentation"]])
    )
    return out


def _workload_index(w: str) -> int:
    from tests.benchmarks._workloads import WORKLOADS

    return WORKLOADS.index(w) if w in WORKLOADS else 99


def targets(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 14's targets 1 and 2 for genai-trace (content off), judged on the median; the
    verdict is ``None`` (n/a) when a side is missing."""
    index = {(r["workload"], r["instrumentation"], r["processor"]): r for r in rs}
    out: list[dict[str, Any]] = []
    for r in rs:
        if r["instrumentation"] != "genai_trace":
            continue
        w, proc = r["workload"], r["processor"]
        limit = FLOOR_TARGET.get(w.split("_")[0], 2.0)
        ratio = r["over_noop_div_floor"]
        out.append(
            {
                "workload": w,
                "processor": proc,
                "target": f"over noop <= {limit:g}x floor",
                "value": ratio,
                "pass": None if ratio is None else ratio[0] <= limit,
            }
        )
        for rival, fraction in RIVAL_TARGET.items():
            value = r[f"div_{rival}"]
            theirs = index.get((w, rival, proc))
            ours_n, their_n = r["genai_spans"], theirs["genai_spans"] if theirs else None
            verdict = None
            if value is not None and ours_n is not None and their_n is not None:
                verdict = value[0] <= fraction and ours_n >= their_n
            out.append(
                {
                    "workload": w,
                    "processor": proc,
                    "target": f"<= {fraction:g}x {RIVALS[rival]}, GenAI spans {ours_n} vs "
                    f"{their_n}",
                    "value": value,
                    "pass": verdict,
                }
            )
    return out


def _iv(v: Interval | None) -> str:
    return "-" if v is None else f"{v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}]"


def table(rs: list[dict[str, Any]]) -> str:
    head = (
        "| workload | tracer | processor | GenAI spans (all) | over-noop ÷ floor | "
        "SDK in place ÷ floor | ÷ OpenLLMetry | ÷ OpenInference |"
    )
    lines = [head, "|" + "---|" * 8]
    for r in rs:
        spans = "-" if r["spans"] is None else f"{r['genai_spans']} ({r['spans']})"
        lines.append(
            f"| {r['workload']} | {r['instrumentation']} | {r['processor']} | {spans} | "
            f"{_iv(r['over_noop_div_floor'])} | {_iv(r['sdk_in_place_div_floor'])} | "
            f"{_iv(r['div_openllmetry'])} | {_iv(r['div_openinference'])} |"
        )
    return "\n".join(lines)


def targets_table(ts: list[dict[str, Any]]) -> str:
    lines = ["| workload | processor | target | median [range] | result |", "|---|---|---|---|---|"]
    for t in ts:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["pass"]]
        lines.append(
            f"| {t['workload']} | {t['processor']} | {t['target']} | {_iv(t['value'])} | "
            f"{verdict} |"
        )
    return "\n".join(lines)
