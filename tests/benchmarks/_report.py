"""Paired overheads, medians, ratios, targets; the printed table.

Overhead of a run = its µs/inv minus the median ``none`` baseline of the same workload in the same
round (paired: the machine's speed drifts), then the median over rounds. ``over noop`` pairs the
same way against the round's no-op handler run. The floor is the bare-SDK replay of the very span
tree the configuration produced, with the same processor.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from tests.benchmarks._instrumentations import COMPETITORS


def _med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(records: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    key = "cpu_us_per_inv" if metric == "cpu" else "us_per_inv"
    by: dict[tuple[str, str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    spans: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    in_place: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str, str], str] = {}
    for r in records:
        k = (r["workload"], r["instrumentation"], r["processor"])
        if "error" in r:
            errors[k] = str(r["error"]).splitlines()[0][:200]
            continue
        by[k][r["round"]].append(r[key])
        spans[k].append(r.get("spans_per_inv", 0.0))
        if r.get("sdk_in_place_us") is not None:
            in_place[k].append(r["sdk_in_place_us"])
    rows: list[dict[str, Any]] = []
    workloads = sorted({k[0] for k in list(by) + list(errors)}, key=_workload_order)
    for w in workloads:
        base = {rnd: statistics.median(v) for rnd, v in by[(w, "none", "-")].items()}
        noop = {rnd: statistics.median(v) for rnd, v in by[(w, "noop", "-")].items()}
        configs = sorted(
            {(k[1], k[2]) for k in list(by) + list(errors) if k[0] == w},
            key=lambda c: (_instr_order(c[0]), c[1]),
        )
        for name, proc in configs:
            if name.startswith("floor:"):
                continue
            k = (w, name, proc)
            if k in errors and k not in by:
                rows.append(
                    {"workload": w, "instrumentation": name, "processor": proc, "error": errors[k]}
                )
                continue
            per_round = {rnd: statistics.median(v) for rnd, v in by[k].items()}
            over_none = [v - base[r] for r, v in per_round.items() if r in base]
            over_noop = [v - noop[r] for r, v in per_round.items() if r in noop]
            floor_runs = [x for v in by.get((w, f"floor:{name}", proc), {}).values() for x in v]
            row: dict[str, Any] = {
                "workload": w,
                "instrumentation": name,
                "processor": proc,
                "us_per_inv": _med(list(per_round.values())),
                "best_us_per_inv": min(per_round.values()) if per_round else None,
                "overhead_us": _med(over_none) if name != "none" else None,
                "overhead_over_noop_us": _med(over_noop) if name not in ("none", "noop") else None,
                "spans_per_inv": _med(spans[k]),
                "floor_us": _med(floor_runs),
                "sdk_in_place_us": _med(in_place[k]),
                "rounds": len(per_round),
            }
            row["overhead_div_floor"] = _ratio(row["overhead_us"], row["floor_us"])
            row["over_noop_div_floor"] = _ratio(row["overhead_over_noop_us"], row["floor_us"])
            row["over_noop_div_sdk_in_place"] = _ratio(
                row["overhead_over_noop_us"], row["sdk_in_place_us"]
            )
            rows.append(row)
    _competitor_ratios(rows)
    return rows


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _competitor_ratios(rows: list[dict[str, Any]]) -> None:
    best: dict[tuple[str, str], tuple[str, float]] = {}
    for r in rows:
        if r["instrumentation"] in COMPETITORS and r.get("overhead_us") is not None:
            k = (r["workload"], r["processor"])
            if k not in best or r["overhead_us"] < best[k][1]:
                best[k] = (r["instrumentation"], r["overhead_us"])
    for r in rows:
        b = best.get((r["workload"], r["processor"]))
        if b is not None and r.get("overhead_us") is not None:
            r["best_competitor"] = b[0]
            r["ratio_to_best_competitor"] = _ratio(r["overhead_us"], b[1])


def _workload_order(w: str) -> int:
    from tests.benchmarks._workloads import WORKLOADS

    return WORKLOADS.index(w) if w in WORKLOADS else 99


def _instr_order(name: str) -> int:
    from tests.benchmarks._instrumentations import INSTRUMENTATIONS

    return INSTRUMENTATIONS.index(name) if name in INSTRUMENTATIONS else 99


_TIMES = "{:.1f}\u00d7"  # multiplication sign


def _f(v: float | None, fmt: str = "{:.0f}") -> str:
    return "-" if v is None else fmt.format(v)


def table(rows: list[dict[str, Any]], metric: str) -> str:
    head = (
        f"| workload | instrumentation | processor | µs/inv ({metric}, median) | overhead µs "
        "(paired vs none) | over noop µs | floor µs | overhead ÷ floor | over-noop ÷ floor | "
        "SDK in place µs | over-noop ÷ SDK in place | ÷ best competitor | spans/inv |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        if r.get("error"):
            lines.append(
                f"| {r['workload']} | {r['instrumentation']} | {r['processor']} | "
                f"not run: {r['error']} |  |  |  |  |  |  |  |  |  |"
            )
            continue
        comp = r.get("ratio_to_best_competitor")
        best = f" ({r['best_competitor']})" if comp is not None else ""
        cells = [
            r["workload"],
            r["instrumentation"],
            r["processor"],
            _f(r["us_per_inv"]),
            _f(r["overhead_us"], "{:+.0f}"),
            _f(r["overhead_over_noop_us"], "{:+.0f}"),
            _f(r["floor_us"]),
            _f(r["overhead_div_floor"], _TIMES),
            _f(r["over_noop_div_floor"], _TIMES),
            _f(r.get("sdk_in_place_us")),
            _f(r.get("over_noop_div_sdk_in_place"), _TIMES),
            _f(comp, "{:.2f}") + best,
            _f(r["spans_per_inv"], "{:.1f}"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_table(mem: list[dict[str, Any]]) -> str:
    lines = [
        "| workload | mode | invocations | RSS growth MB (all / 2nd half) | live blocks, "
        "GC objects (2nd half) | malloc in use, held free MB; pymalloc arenas (2nd half) | "
        "threads started / invocation | registry max open after a root | target < 5 MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in mem:
        mode = "async" if m["async"] else "sync"
        if "error" in m:
            lines.append(
                f"| {m['workload']} | {mode} | not run: {m['error'][:120]} |  |  |  |  |  |  |"
            )
            continue
        half = m["rss_growth_second_half_kb"] / 1024
        ok = "PASS" if half < 5 and m["registry_max_open_after_invocation"] == 0 else "FAIL"
        lines.append(
            f"| {m['workload']} | {mode} | {m['invocations']} | "
            f"{m['rss_growth_kb'] / 1024:+.2f} / {half:+.2f} | "
            f"{m.get('blocks_growth_second_half', 0):+d}, "
            f"{m.get('objects_growth_second_half', 0):+d} | {_allocators(m)} | "
            f"{m.get('threads_started_per_invocation', 0):g} | "
            f"{m['registry_max_open_after_invocation']} | {ok} |"
        )
    return "\n".join(lines)


def _allocators(m: dict[str, Any]) -> str:
    """malloc's in-use and held-free growth (``n/a`` off glibc) and pymalloc's arena growth."""
    heap = "n/a"
    if m.get("malloc_kb", {}).get("in_use"):
        heap = (
            f"{m['malloc_in_use_growth_second_half_kb'] / 1024:+.2f}, "
            f"{m['malloc_held_free_growth_second_half_kb'] / 1024:+.2f}"
        )
    arenas = f"{m['pymalloc_arenas_growth_second_half']:+d}" if m.get("pymalloc_arenas") else "n/a"
    return f"{heap}; {arenas}"
