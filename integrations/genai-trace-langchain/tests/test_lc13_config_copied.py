"""A step may copy or pickle its run's config; instrumented, it still can.

``copy.deepcopy(config)`` (to keep it for a retry) and ``pickle.dumps(config["callbacks"])`` (to
hand it to a worker) work without genai-trace; the handler LangChain puts in every config made
both raise ``TypeError: cannot pickle '_thread.lock' object`` (until 2026-12-07). The handler is
a shared service: a copy is the handler itself, and an unpickled one is the handler of the
process unpickling it (the same one in this process; in another, the active instrumentor's or
the default one on the global providers).
"""

from __future__ import annotations

import copy
import gc
import pickle
import subprocess
import sys
from typing import Any

from langchain_core.callbacks import BaseCallbackManager
from langchain_core.runnables import RunnableConfig, RunnableLambda
from lifecycle_checks import Lifecycle

from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler


def _handlers(callbacks: Any) -> list[Any]:
    if isinstance(callbacks, BaseCallbackManager):
        return list(callbacks.handlers)
    return list(callbacks or [])


def test_a_step_deep_copies_and_pickles_its_config(
    otel: OTelHarness, enabled: dict[str, Any], lifecycle: Lifecycle
) -> None:
    seen: dict[str, Any] = {}

    def node(value: int, config: RunnableConfig) -> int:
        snapshot = copy.deepcopy(config)
        revived = pickle.loads(pickle.dumps(config["callbacks"]))
        seen["copied"], seen["revived"] = snapshot["callbacks"], revived
        seen["ours"] = [h for h in config["callbacks"].handlers if _ours(h)]
        return value + len(snapshot["tags"])

    assert RunnableLambda(node).invoke(1, {**enabled, "tags": ["a"]}) == 2
    lifecycle.check()
    [ours] = seen["ours"]
    for callbacks in (seen["copied"], seen["revived"]):
        assert [h for h in _handlers(callbacks) if _ours(h)] == [ours]  # the handler itself
    assert [(s["name"], s["status"]) for s in otel.span_dicts()] == [
        ("invoke_workflow node", "UNSET")
    ]


def test_a_config_copied_or_pickled_by_the_app_traces_on_its_handler(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    config: RunnableConfig = {"callbacks": [handler], "tags": ["a"]}
    assert copy.copy(handler) is handler
    assert copy.deepcopy(config)["callbacks"] == [handler]
    revived = pickle.loads(pickle.dumps(config))
    assert revived["callbacks"] == [handler]
    assert RunnableLambda(lambda value: value + 1).invoke(1, revived) == 2
    lifecycle.check()
    assert [(s["name"], s["status"]) for s in otel.span_dicts()] == [("invoke_workflow", "UNSET")]


def test_a_handler_unpickled_where_it_is_gone_is_the_active_instrumentors(
    otel: OTelHarness, instrumented: Any
) -> None:
    gone = pickle.dumps(OpenTelemetryCallbackHandler(telemetry=otel.telemetry()))
    gc.collect()
    assert pickle.loads(gone) is instrumented.handler


def test_a_handler_unpickled_in_another_process_is_that_process_default_handler(
    handler: OpenTelemetryCallbackHandler,
) -> None:
    code = (
        "import pickle, sys\n"
        "from langchain_core.runnables import RunnableLambda\n"
        "config = pickle.loads(sys.stdin.buffer.read())\n"
        "[h] = config['callbacks']\n"
        "print(type(h).__name__, RunnableLambda(lambda v: v + 1).invoke(1, config))\n"
    )
    data = pickle.dumps({"callbacks": [handler]})
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        input=data,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().split() == ["OpenTelemetryCallbackHandler", "2"]


def _ours(handler: Any) -> bool:
    return isinstance(handler, OpenTelemetryCallbackHandler)
