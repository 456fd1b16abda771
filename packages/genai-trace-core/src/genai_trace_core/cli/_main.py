"""The ``genai-trace`` command: ``view`` a JSONL trace file, ``price`` a model, run the ``demo``.

``view`` and ``price`` need no OpenTelemetry SDK: ``view`` renders :class:`SpanView` records with
the same renderer the live terminal output uses.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from genai_trace_core import semconv
from genai_trace_core.records import Usage
from genai_trace_core.version import __version__
from genai_trace_core.view import (
    SpanView,
    aggregate,
    by_inherited,
    by_model,
    format_usd,
    render_totals,
    render_trace,
    use_color,
    walk,
)

__all__ = ["main"]

_PRICE_PROBE_TOKENS = 1_000  # small enough to stay below any tiered-price threshold


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-trace", description="Look at genai-trace output without a backend."
    )
    parser.add_argument(
        "--version", action="version", version=f"genai-trace (genai-trace-core) {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    view = sub.add_parser("view", help="print the traces of a JSONL file as trees, with totals")
    view.add_argument("file", help="JSONL file written by configure() (.genai-trace/traces.jsonl)")
    view.add_argument("--trace", metavar="ID", help="only this trace id (a prefix is enough)")
    view.add_argument("--no-color", action="store_true", help="never use colours")
    price = sub.add_parser("price", help="per-million prices of a model and the cost of a usage")
    price.add_argument("model")
    price.add_argument("--provider", metavar="P", help="gen_ai.provider.name, e.g. openai")
    price.add_argument("--input", type=int, default=0, metavar="N", help="input tokens")
    price.add_argument("--output", type=int, default=0, metavar="N", help="output tokens")
    price.add_argument(
        "--cached", type=int, default=0, metavar="N", help="cache-read tokens (part of --input)"
    )
    sub.add_parser("demo", help="run a small traced demo (no API key, no server)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status. Output cut short by a closed pipe (``genai-trace view
    FILE | head``) ends it quietly with status 1, as Python's docs recommend for SIGPIPE; output
    that cannot be written at all (stdout closed, a full disk) is one line on stderr and status
    1, never a traceback."""
    try:
        args = _parser().parse_args(argv)
        if sys.stdout is None and args.command != "demo":  # ``>&-``: nowhere to write
            raise OSError(errno.EBADF, "stdout is closed")
        status = _run(args)
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return 1
    except OSError as exc:
        _discard_stdout()
        if sys.stderr is not None:
            with contextlib.suppress(OSError):
                print(
                    f"genai-trace: cannot write the output: {exc.strerror or exc}", file=sys.stderr
                )
        return 1
    return status


def _discard_stdout() -> None:
    """Nothing more can be written: point stdout at devnull so the flush at exit cannot fail."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _run(args: argparse.Namespace) -> int:
    if args.command == "view":
        return _view(args.file, args.trace, no_color=args.no_color, out=sys.stdout)
    if args.command == "price":
        return _price(
            args.model,
            args.provider,
            tokens_in=args.input,
            tokens_out=args.output,
            cached=args.cached,
            out=sys.stdout,
        )
    return _demo()


# --- view ------------------------------------------------------------------------------------


def _read_traces(path: str) -> tuple[dict[str, list[SpanView]], int]:
    """Spans grouped by trace id, in file order; and the number of unreadable lines (not JSON,
    not a span, or not UTF-8)."""
    traces: dict[str, list[SpanView]] = {}
    bad = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                span = SpanView.from_dict(json.loads(raw.decode("utf-8-sig")))  # BOM or not
            except (ValueError, KeyError, TypeError, AttributeError):  # UnicodeDecodeError too
                bad += 1
                continue
            traces.setdefault(span.trace_id, []).append(span)
    return traces, bad


def _view(path: str, trace_id: str | None, *, no_color: bool, out: TextIO) -> int:
    try:
        traces, bad = _read_traces(path)
    except OSError as exc:
        print(f"genai-trace view: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if bad and not traces:  # not a file configure() writes (OTLP JSON, the SDK's console output)
        print(
            f"genai-trace view: no span in {path}: {bad} unreadable line{'s' if bad != 1 else ''}"
            " (expected the JSONL file configure() writes, one span per line)",
            file=sys.stderr,
        )
        return 1
    if trace_id:
        wanted = trace_id.lower()
        traces = {k: v for k, v in traces.items() if k.startswith(wanted)}
        if not traces:
            print(f"genai-trace view: no trace {trace_id} in {path}", file=sys.stderr)
            return 1
    color = not no_color and use_color(out)
    rows = []
    for spans in traces.values():
        out.write(render_trace(spans, color=color))
        out.write("\n")
        rows.extend(walk(spans))
    summary = [
        ("model", by_model),
        ("user", by_inherited(semconv.USER_ID)),
        ("tenant", by_inherited(semconv.TENANT_ID)),
    ]
    out.write(f"{len(traces)} trace{'s' if len(traces) != 1 else ''}")
    out.write(f", {bad} unreadable line{'s' if bad != 1 else ''} skipped\n" if bad else "\n")
    for title, key in summary:
        table = aggregate(rows, key)
        if table:
            out.write(f"\ntotals by {title}\n{render_totals(title, table, color=color)}\n")
    return 0


# --- price -----------------------------------------------------------------------------------


def _price(
    model: str,
    provider: str | None,
    *,
    tokens_in: int,
    tokens_out: int,
    cached: int,
    out: TextIO,
) -> int:
    try:
        from genai_trace_core.usage import compute_cost
    except ImportError:
        print("genai-trace price: the cost module is not available", file=sys.stderr)
        return 2
    if min(tokens_in, tokens_out, cached) < 0 or cached > tokens_in:
        print("genai-trace price: counts must be >= 0 and --cached <= --input", file=sys.stderr)
        return 2
    n = _PRICE_PROBE_TOKENS
    probe = compute_cost(model, provider, Usage(input_tokens=n, output_tokens=n))
    cache_probe = compute_cost(model, provider, Usage(input_tokens=n, cache_read_input_tokens=n))
    if probe is None:
        who = f" ({provider})" if provider else " (name its provider: --provider openai, ...)"
        print(f"genai-trace price: no price known for {model}{who}", file=sys.stderr)
        return 1
    scale = 1_000_000 / n

    def per_million(value: float | None) -> str:
        if value is None:
            return "-"
        text = f"{value * scale:,.4f}".rstrip("0")  # $2.50, $0.075, $10.00
        return "$" + (text + "0" * (2 - len(text.split(".")[1])))

    out.write(f"model     {model}" + (f"  (provider {provider})" if provider else "") + "\n")
    out.write("per 1M tokens (USD)\n")
    out.write(f"  input         {per_million(probe.input_usd)}\n")
    out.write(
        f"  cached input  {per_million(cache_probe.cache_read_usd if cache_probe else None)}\n"
    )
    out.write(f"  output        {per_million(probe.output_usd)}\n")
    out.write(f"source    {probe.source}\n")
    if tokens_in or tokens_out:
        usage = Usage(
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cache_read_input_tokens=cached or None,
        )
        cost = compute_cost(model, provider, usage)
        label = f"usage     in {tokens_in:,}" + (f" (cached {cached:,})" if cached else "")
        out.write(f"{label}  out {tokens_out:,}\n")
        out.write(f"cost      {format_usd(cost.total_usd) if cost else '-'}")
        if cost is not None:
            parts = [
                (label, value)
                for label, value in (
                    ("input", cost.input_usd),
                    ("cached", cost.cache_read_usd),
                    ("output", cost.output_usd),
                )
                if value is not None
            ]
            out.write("  (" + ", ".join(f"{k} {format_usd(v)}" for k, v in parts) + ")")
        out.write("\n")
    return 0


# --- demo ------------------------------------------------------------------------------------


def _demo() -> int:
    """Run the demo; a missing extra is a one-line hint, not a traceback."""
    try:
        demo = importlib.import_module("genai_trace_core.cli._demo")
        result = demo.main()
        return result if isinstance(result, int) else 0
    except ImportError as exc:
        hint = str(exc)
        if "pip install" not in hint:
            missing = getattr(exc, "name", None) or hint
            hint = f"missing {missing}: pip install 'genai-trace-core[sdk]'"
        print(f"genai-trace demo: {hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
