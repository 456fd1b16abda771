"""configure(): the embedded terminal/JSONL default, OTLP selection, settings, globals, no SDK."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from genai_trace_core import semconv as S
from genai_trace_core._settings import CaptureMode, get_settings, set_settings
from genai_trace_core.export import Providers, configure

_OTEL_VARS = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "GENAI_TRACE_JSONL",
    "NO_COLOR",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in _OTEL_VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    set_settings(None)  # configure() may have applied overrides


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def _one_trace(providers: Providers) -> None:
    tracer = providers.tracer_provider.get_tracer("test")
    with (
        tracer.start_as_current_span("invoke_agent helper"),
        tracer.start_as_current_span("chat gpt-4o", attributes={S.GEN_AI_REQUEST_MODEL: "gpt-4o"}),
    ):
        pass


def test_without_endpoint_each_trace_is_printed_and_every_span_appended_to_jsonl(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_thread_leak: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    providers = configure(service_name="embedded-test", set_global=False)
    try:
        _one_trace(providers)
        _one_trace(providers)
        assert providers.force_flush()
    finally:
        providers.shutdown()

    default_file = tmp_path / ".genai-trace" / "traces.jsonl"
    assert (providers.mode, providers.jsonl_path) == ("embedded", default_file)
    records = [json.loads(line) for line in default_file.read_text("utf-8").splitlines()]
    assert [(r["name"], r["resource"][S.SERVICE_NAME]) for r in records] == [
        ("chat gpt-4o", "embedded-test"),
        ("invoke_agent helper", "embedded-test"),
    ] * 2
    chat, agent = records[0], records[1]
    assert (chat["parent_id"], chat["trace_id"]) == (agent["span_id"], agent["trace_id"])
    err = capsys.readouterr().err
    trees = [block.splitlines()[1:] for block in err.split("trace ")[1:]]
    assert [[line.rsplit("  ", 1)[0].rstrip() for line in tree] for tree in trees] == [
        ["invoke_agent helper", "└── chat gpt-4o"]
    ] * 2
    assert [line.split(" · ")[1] for line in err.splitlines() if line.startswith("trace ")] == [
        "embedded-test"
    ] * 2


def test_service_name_comes_from_otel_service_name_then_defaults_to_genai_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = []
    for env in ("from-env", None):
        if env:
            monkeypatch.setenv("OTEL_SERVICE_NAME", env)
        else:
            monkeypatch.delenv("OTEL_SERVICE_NAME")
        providers = configure(set_global=False, console=False, jsonl_path="")
        names.append(providers.tracer_provider.resource.attributes[S.SERVICE_NAME])
        providers.shutdown()
    assert names == ["from-env", "genai-app"]


def test_jsonl_destination_follows_argument_then_env_and_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    seen: list[Path | None] = []
    monkeypatch.setenv("GENAI_TRACE_JSONL", str(tmp_path / "env.jsonl"))
    for arg in (tmp_path / "arg.jsonl", None, ""):
        providers = configure(set_global=False, console=False, jsonl_path=arg)
        seen.append(providers.jsonl_path)
        providers.shutdown()
    monkeypatch.setenv("GENAI_TRACE_JSONL", "off")
    providers = configure(set_global=False, console=False)
    seen.append(providers.jsonl_path)
    providers.shutdown()
    assert seen == [tmp_path / "arg.jsonl", tmp_path / "env.jsonl", None, None]


def test_endpoint_selects_otlp_http_by_default_and_grpc_on_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_thread_leak: None
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # discard port
    modes = []
    for protocol_env, protocol_arg in ((None, None), ("grpc", None), (None, "grpc")):
        if protocol_env:
            monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol_env)
        else:
            monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
        providers = configure(set_global=False, protocol=protocol_arg)
        modes.append((providers.mode, providers.jsonl_path))
        providers.shutdown()  # nothing recorded: nothing sent
    assert modes == [("otlp/http/protobuf", None), ("otlp/grpc", None), ("otlp/grpc", None)]
    assert capsys.readouterr().err == ""  # no terminal output unless console=True


def test_unsupported_protocol_argument_and_unknown_setting_are_rejected() -> None:
    with pytest.raises(ValueError, match="http/protobuf"):
        configure(endpoint="http://127.0.0.1:9", protocol="http/json", set_global=False)
    with pytest.raises(TypeError, match="max_atribute_length"):
        configure(set_global=False, max_atribute_length=3)


def test_capture_content_and_setting_overrides_are_applied(tmp_path: Path) -> None:
    providers = configure(
        set_global=False,
        console=False,
        jsonl_path="",
        capture_content="SPAN_AND_EVENT",
        max_attribute_length=128,
        metadata_keys=("plan",),
    )
    providers.shutdown()
    settings = get_settings()
    assert (settings.capture_mode, settings.max_attribute_length, settings.metadata_keys) == (
        CaptureMode.SPAN_AND_EVENT,
        128,
        ("plan",),
    )


def test_an_invalid_capture_argument_is_warned_about_as_the_argument_and_captures_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        configure(set_global=False, console=False, jsonl_path="", capture_content="bogus-arg")
    [record] = [r for r in caplog.records if "bogus-arg" in r.getMessage()]
    assert record.getMessage().startswith("genai-trace: configure(capture_content='bogus-arg')")
    assert S.ENV_CAPTURE_MESSAGE_CONTENT not in record.getMessage()  # not the variable's fault
    assert get_settings().capture_mode is CaptureMode.NO_CONTENT


def test_shutdown_is_idempotent_and_flush_after_shutdown_reports_false() -> None:
    providers = configure(set_global=False, console=False, jsonl_path="")
    providers.shutdown()
    providers.shutdown()
    assert (providers.is_shutdown, providers.force_flush()) == (True, False)


def test_missing_sdk_raises_import_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk", None)
    with pytest.raises(ImportError, match=r"pip install 'genai-trace-core\[sdk\]'"):
        configure(set_global=False)


def _run_isolated(script: str, tmp_path: Path) -> dict[str, object]:
    """Global providers can be set once per process: exercise them in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k not in _OTEL_VARS}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_configure_twice_keeps_one_global_setup_and_never_overrides(tmp_path: Path) -> None:
    script = """
import io, json, logging
from opentelemetry import _logs, metrics, trace
from genai_trace_core.export import configure

log = io.StringIO()
logging.basicConfig(stream=log, level=logging.WARNING, format="%(name)s: %(message)s")
first = configure(console=False, jsonl_path="")
second = configure(console=False, jsonl_path="")
installed = (
    trace.get_tracer_provider() is first.tracer_provider
    and metrics.get_meter_provider() is first.meter_provider
    and _logs.get_logger_provider() is first.logger_provider
)
first.shutdown()
third = configure(console=False, jsonl_path="")
still_first = trace.get_tracer_provider() is first.tracer_provider
third.shutdown()
print(json.dumps({
    "same": second is first, "installed": installed, "third_is_new": third is not first,
    "still_first": still_first, "log": log.getvalue().splitlines(),
}))
"""
    assert _run_isolated(script, tmp_path) == {
        "same": True,
        "installed": True,
        "third_is_new": True,
        "still_first": True,
        "log": [
            "genai_trace: genai-trace: a global TracerProvider/MeterProvider/LoggerProvider is "
            "already installed (opentelemetry-instrument, another library, or an earlier "
            "configure() that was shut down); configure() left it in place. Use the returned "
            "providers explicitly or pass set_global=False."
        ],
    }


def test_importing_core_and_the_cli_loads_neither_sdk_nor_exporters(tmp_path: Path) -> None:
    script = """
import json, sys
import genai_trace_core, genai_trace_core.cli._main
print(json.dumps({"loaded": sorted(
    m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter"))
)}))
"""
    assert _run_isolated(script, tmp_path) == {"loaded": []}
