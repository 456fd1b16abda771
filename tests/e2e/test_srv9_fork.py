"""Forking after ``configure()`` and ``instrument()`` (gunicorn ``--preload``, a ``multiprocessing``
pool with the ``fork`` start method, Linux's default before Python 3.14): every child answers its
request, exports its spans over OTLP (the batch processor ``configure()`` builds) and exits, by
``os._exit`` after ``force_flush`` or normally, and the parent carries on.

``instrument()`` loads genai-prices in a background thread. A fork while that thread was importing
it gave the child the module's import lock, held by a thread the child does not have: the child's
first priced call (on the app's thread, at the model call's end) waited for it forever. The
program forks at that moment on purpose (as soon as the import has begun), which a preloading
server hits by itself: it forks right after importing the app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from otlp_receiver import otlp_receiver

from genai_trace_core import semconv

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

PROGRAM = r"""
import json, multiprocessing, os, sys, time

from genai_trace_core import configure
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import FakeChatOpenAI

mode = sys.argv[1]
providers = configure(service_name="srv9-fork")
LangChainInstrumentor().instrument(
    tracer_provider=providers.tracer_provider,
    meter_provider=providers.meter_provider,
    logger_provider=providers.logger_provider,
)
chat = FakeChatOpenAI(responses=["ok"])
deadline = time.monotonic() + 10
while "genai_prices" not in sys.modules and time.monotonic() < deadline:
    time.sleep(0.001)  # the background price load has begun: fork now, as a server would


def work(name):
    answer = chat.invoke(f"request of {name}").content
    providers.force_flush(5000)
    return answer


def wait(pid):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return "hung"


result = {}
if mode == "os.fork":
    for name in ("child-os-exit", "child-exit"):
        pid = os.fork()
        if pid == 0:
            answer = chat.invoke(f"request of {name}").content
            if name == "child-os-exit":
                providers.force_flush(5000)
                os._exit(0 if answer == "ok" else 3)
            sys.exit(0 if answer == "ok" else 3)  # atexit shuts the providers down
        result[name] = wait(pid)
else:
    pool = multiprocessing.get_context("fork").Pool(2)
    answers = pool.map_async(work, ["pool-1", "pool-2"])
    try:
        result["pool"] = answers.get(timeout=20)
    except multiprocessing.TimeoutError:
        result["pool"] = "hung"
    pool.terminate()
    pool.join()
result["parent"] = chat.invoke("request of parent").content
print(json.dumps(result), flush=True)
"""


@pytest.mark.parametrize(
    ("mode", "expected", "requests"),
    [
        (
            "os.fork",
            {"child-os-exit": 0, "child-exit": 0, "parent": "ok"},
            {"child-os-exit", "child-exit", "parent"},
        ),
        ("fork-pool", {"pool": ["ok", "ok"], "parent": "ok"}, {"parent", "pool-1", "pool-2"}),
    ],
)
def test_children_forked_right_after_instrument_answer_and_export(
    mode: str, expected: dict[str, object], requests: set[str]
) -> None:
    with otlp_receiver() as (endpoint, received):
        env = dict(
            os.environ,
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            GENAI_TRACE_JSONL="off",
            OTEL_METRICS_EXPORTER="none",
            OTEL_LOGS_EXPORTER="none",
            PYTHONWARNINGS="ignore::DeprecationWarning",  # 3.12+: fork with threads running
        )
        run = subprocess.run(
            [sys.executable, "-c", PROGRAM, mode],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert json.loads(run.stdout.strip().splitlines()[-1]) == expected
        deadline = time.monotonic() + 10
        while len(received.spans) < len(requests) and time.monotonic() < deadline:
            time.sleep(0.05)
    spans = [s for s in received.spans if s["scope"] == "genai_trace_langchain"]
    assert len(spans) == len(requests)  # one chat span per request, children's included
    assert len({s["trace_id"] for s in spans}) == len(requests)
    for span in spans:
        assert span["name"] == "chat gpt-4o-mini"
        assert span["attributes"][semconv.COST_USD] > 0  # priced in the child too
