"""Runs still open at exit are ended and exported whether the providers were set up before or
after genai-trace (``Telemetry()``, what ``instrument()`` builds, on the global provider).

``atexit`` runs the last registered hook first. Until 2026-12-07 the hook that ends open runs was
registered when the registry was made: a tracer provider or ``configure()`` set up after it
registered its shutdown later, so it shut down first and the abandoned runs reached a shut-down
processor, lost (and ``configure()`` logged that spans "could not be exported (already_shutdown);
the tracing backend may be down or slow"). Found by helper O. The hook now moves after every exit
hook registered before a registry's first open run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from genai_trace_core import Operation, OperationKind, Telemetry, configure

setup, order, path = sys.argv[1:]


class Print(SpanExporter):
    def export(self, spans):
        for s in spans:
            print("span:", s.name, s.attributes.get("error.type"), flush=True)
        return SpanExportResult.SUCCESS


def set_up():
    if setup == "configure":
        configure(service_name="exit", console=False, jsonl_path=path)
    else:
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Print()))
        trace.set_tracer_provider(provider)


if order == "before":
    set_up()
telemetry = Telemetry()
if order == "during":  # set up while a run is open (not exported: no provider when it started)
    telemetry.start("early", Operation(OperationKind.INVOKE_WORKFLOW, name="early"))
if order in ("after", "during"):
    set_up()
telemetry.start("done", Operation(OperationKind.INVOKE_WORKFLOW, name="done"))
telemetry.end("done")
telemetry.start("qa", Operation(OperationKind.INVOKE_WORKFLOW, name="qa"))
chat = Operation(OperationKind.CHAT, provider="openai", request_model="gpt-4o-mini")
telemetry.start("chat", chat, parent_run_id="qa")
telemetry.chunk("chat")  # a stream read in part, never closed
print("exiting", flush=True)
"""


def _run(tmp_path: Path, setup: str, order: str) -> tuple[list[str], str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    jsonl = tmp_path / "traces.jsonl"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROGRAM, setup, order, str(jsonl)],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "exiting" or setup == "provider"
    if setup == "configure":
        records = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
        lines = [f"span: {r['name']} {r['attributes'].get('error.type')}" for r in records]
    return sorted(line for line in lines if line != "exiting"), done.stderr


@pytest.mark.parametrize("order", ["before", "after", "during"])
@pytest.mark.parametrize("setup", ["provider", "configure"])
def test_open_runs_are_exported_at_exit_whatever_the_setup_order(
    tmp_path: Path, setup: str, order: str
) -> None:
    spans, stderr = _run(tmp_path, setup, order)
    assert spans == [
        "span: chat gpt-4o-mini abandoned",
        "span: invoke_workflow done None",
        "span: invoke_workflow qa abandoned",
    ]
    assert stderr == ""


FORK = """
import os, sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from genai_trace_core import Operation, OperationKind, Telemetry

PARENT = os.getpid()


class Print(SpanExporter):
    def export(self, spans):
        who = "parent" if os.getpid() == PARENT else "child"
        for s in spans:
            print(who, s.name, s.attributes.get("error.type"), flush=True)
        return SpanExportResult.SUCCESS


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(Print()))
telemetry = Telemetry(tracer_provider=provider)
telemetry.start("qa", Operation(OperationKind.INVOKE_WORKFLOW, name="qa"))
pid = os.fork()
if pid == 0:  # the child starts its own run, leaves both open and exits normally
    telemetry.start("job", Operation(OperationKind.INVOKE_WORKFLOW, name="job"))
    if sys.argv[1] == "shutdown":  # what uninstrument() does; the TTL sweep ends runs as well
        telemetry.shutdown()
    sys.exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("how", ["exit", "shutdown"])
def test_a_forked_child_ends_only_the_runs_it_started(how: str) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", FORK, how],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [  # the parent's run is exported once, by the parent
        "child invoke_workflow job abandoned",
        "parent invoke_workflow qa abandoned",
    ]
