"""Shared by the examples: collect this run's finished spans and print its cost summary.

The per-trace trees come from ``genai_trace_core.configure()`` (printed on stderr as each trace
ends); this adds one table for the whole run, per model (``genai_trace_core.cost_summary``).
Any framework works: it reads finished spans only.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from genai_trace_core import Providers, cost_summary


class SpanCollector(SpanProcessor):
    """Keeps every finished span of the run (an example runs a handful of traces)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.spans.append(span)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def collect(providers: Providers) -> SpanCollector:
    collector = SpanCollector()
    providers.tracer_provider.add_span_processor(collector)
    return collector


def print_cost_summary(collector: SpanCollector, out: TextIO = sys.stdout) -> None:
    """Tokens and USD per model over every trace of the run."""
    print(cost_summary(collector.spans), file=out)


def example_args(
    doc: str | None, argv: Sequence[str] | None, default_questions: Sequence[str]
) -> tuple[list[str], bool] | None:
    """The examples' command line: questions (default ``default_questions``) and ``--real``.
    ``None``, after saying why on stderr, when ``--real`` lacks ``OPENAI_API_KEY``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("questions", nargs="*", help="ask these instead of the built-in ones")
    parser.add_argument(
        "--real", action="store_true", help="use OpenAI (needs OPENAI_API_KEY; costs money)"
    )
    args = parser.parse_args(argv)
    if args.real and not os.environ.get("OPENAI_API_KEY"):
        print("--real needs OPENAI_API_KEY in the environment", file=sys.stderr)
        return None
    return list(args.questions) or list(default_questions), bool(args.real)
