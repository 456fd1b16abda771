"""configure(): ``service.name`` from ``OTEL_RESOURCE_ATTRIBUTES``, and ``price_overrides`` used.

Both were accepted and ignored before 2026-12-06: the default ``genai-app`` replaced a
``service.name`` set in ``OTEL_RESOURCE_ATTRIBUTES`` (the specification says it must be used), and
``configure(price_overrides=...)`` (a documented ``Settings`` field) priced nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from genai_trace_core import Operation, OperationKind, Outcome, Telemetry
from genai_trace_core import semconv as S
from genai_trace_core._settings import get_settings, set_settings
from genai_trace_core.export import configure
from genai_trace_core.testing import OTelHarness
from genai_trace_core.usage import clear_prices

_VARS = ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "GENAI_TRACE_PRICES_FILE")


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in _VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    set_settings(None)
    clear_prices()


@pytest.mark.parametrize(
    ("argument", "service_env", "resource_env", "expected"),
    [
        (None, None, None, "genai-app"),
        (None, None, "service.name=checkout,team=pay", "checkout"),
        (None, "orders", "service.name=checkout", "orders"),
        ("cart", "orders", "service.name=checkout", "cart"),
        (None, None, "team=pay", "genai-app"),
    ],
)
def test_service_name_follows_argument_then_otel_service_name_then_resource_attributes(
    monkeypatch: pytest.MonkeyPatch,
    argument: str | None,
    service_env: str | None,
    resource_env: str | None,
    expected: str,
) -> None:
    if service_env:
        monkeypatch.setenv("OTEL_SERVICE_NAME", service_env)
    if resource_env:
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", resource_env)
    providers = configure(service_name=argument, set_global=False, console=False, jsonl_path="")
    try:
        attrs = providers.tracer_provider.resource.attributes
        assert attrs[S.SERVICE_NAME] == expected
        if resource_env and "team=pay" in resource_env:
            assert attrs["team"] == "pay"
    finally:
        providers.shutdown()


def test_price_overrides_given_to_configure_price_the_model(otel: OTelHarness) -> None:
    providers = configure(
        set_global=False,
        console=False,
        jsonl_path="",
        price_overrides={"acme-ft-1": {"input_per_mtok": 1000.0, "output_per_mtok": 2000.0}},
    )
    providers.shutdown()
    tel = Telemetry(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        settings=get_settings(),
    )
    tel.start("r", Operation(OperationKind.CHAT, provider="openai", request_model="acme-ft-1"))
    usage = {"prompt_tokens": 10, "completion_tokens": 5}
    tel.end("r", Outcome(raw_usage=usage, response_model="acme-ft-1"))
    attrs = otel.span_dicts()[0]["attributes"]
    assert attrs[S.COST_SOURCE] == "override"
    assert attrs[S.COST_USD] == pytest.approx(0.02)
