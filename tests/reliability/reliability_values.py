"""Hostile values and registry probes shared by the random-sequence suites (core, LangChain,
LlamaIndex): exceptions of every kind, odd argument values, and white-box views of core's
registry used to end what is still open after a generated sequence."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context

from genai_trace_core import Operation, OperationKind, Telemetry

# internal: a run and its context key, to check what stays current after random sequences
from genai_trace_core.lifecycle._context import RUN_KEY  # the context key of an activated run
from genai_trace_core.lifecycle._run import Run
from genai_trace_core.testing import OTelHarness


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ exploded")


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("__repr__ exploded")

    def __str__(self) -> str:
        raise RuntimeError("__str__ exploded")


class WeirdModuleError(Exception):
    pass


WeirdModuleError.__module__ = "some.deeply.nested.module\x00with nul"


def _groups() -> list[BaseException]:
    if sys.version_info < (3, 11):
        return []
    import builtins

    group: Any = builtins.__dict__["ExceptionGroup"]
    return [group("group", [ValueError("a"), TypeError("b")])]


def _errors() -> list[Any]:
    return [
        ValueError("bad value"),
        KeyError("k"),
        KeyboardInterrupt(),
        SystemExit(3),
        GeneratorExit(),
        asyncio.CancelledError(),
        BrokenStr(),
        WeirdModuleError("weird"),
        RuntimeError("x" * 100_000),
        OSError("surrogate \udcff here"),
        Exception(object(), BrokenRepr()),
        "",
        "RateLimitError",
        "\udc80",
        None,
        42,
        object(),
        BrokenRepr(),
        *_groups(),
    ]


ERRORS: list[Any] = _errors()

ODD: list[Any] = [
    *(None, 0, -1, 2**80, 1.5, float("nan"), "", "\udcff", b"\x00\xff"),
    *(object(), BrokenRepr(), [1, [2]], {"k": object()}),
]


def open_roots(t: Telemetry) -> list[Any]:
    """Run ids of open runs with no parent (white-box: reads the registry)."""
    return [rid for rid, (_, run) in list(t._registry._items.items()) if run.parent is None]


def survivors(t: Telemetry) -> list[tuple[Any, str]]:
    """Open runs that are not streamed inference: these must not outlive their root."""
    out = []
    for rid, (_, run) in list(t._registry._items.items()):
        op = run.op
        if op is not None and op.kind.is_inference and run.streaming:
            continue
        if rid != run.run_id and run.ended:  # a hidden run's alias (no span): dropped at its
            continue  # own end, TTL or shutdown; runs started under it are under an open one
        out.append((rid, "link" if op is None else op.kind.value))
    return out


def assert_context_restored_or_only_stale(
    t: Telemetry, harness: OTelHarness, before: otel_context.Context
) -> None:
    """The context is what it was, unless a run activated here was ended from another thread or
    task (which cannot reset this thread's context): then what is left holds only ended runs, and
    a new root run still starts where it would have started before (no parent span)."""
    current = otel_context.get_current()
    if current is not before:
        run = current.get(RUN_KEY)
        assert isinstance(run, Run) and run.ended
    harness.clear()
    t.start("probe", Operation(OperationKind.INVOKE_WORKFLOW, name="probe"))
    t.end("probe")
    (probe,) = harness.spans()
    assert probe.parent is None
    assert t.open_count() == 0


class Hops:
    """Runs an action here, in another thread, or in another asyncio task; collects escapes."""

    def __init__(self, apply: Callable[[tuple[Any, ...]], None]) -> None:
        self.apply = apply
        self.loop = asyncio.new_event_loop()
        self.escaped: list[BaseException] = []

    def run(self, act: tuple[Any, ...]) -> None:
        if act[0] == "thread":
            t = threading.Thread(target=self.guarded, args=(act[1],))
            t.start()
            t.join()
        elif act[0] == "task":

            async def in_task() -> None:
                self.guarded(act[1])

            self.loop.run_until_complete(self.loop.create_task(in_task()))
        else:
            self.guarded(act)

    def guarded(self, act: tuple[Any, ...]) -> None:
        try:
            self.apply(act)
        except BaseException as exc:  # surfaced by the test in the main thread
            self.escaped.append(exc)

    def close(self) -> None:
        self.loop.close()
