"""Provider suppression: what a model call's activated context tells provider instrumentations,
for OpenLLMetry's key and for util-genai's context entries (faked here: the real
``opentelemetry-instrumentation-genai-openai`` is exercised by the integrations' tests)."""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import context as otel_context

from genai_trace_core import Operation, OperationKind, Outcome, semconv

# internal: the context key provider instrumentations read, and the util-genai module we patch
from genai_trace_core.lifecycle._suppress import SUPPRESS_LANGUAGE_MODEL_KEY, UTIL_GENAI_MODULE
from genai_trace_core.testing import OTelHarness

INFERENCE_KEY = "fake.inference.context"
EMBEDDING_KEY = "fake.embedding.context"


@dataclasses.dataclass
class InferenceData:
    usage_input_tokens: int | None = None
    response_id: object = None
    response_model: object = None
    response_finish_reasons: object = None
    attributes: dict[str, object] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class EmbeddingData:
    usage_input_tokens: int | None = None
    response_model: object = None


@pytest.fixture
def util_genai(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """A loaded util-genai with the names its 1.x ``invocation`` module exports."""
    module = types.ModuleType(UTIL_GENAI_MODULE)
    module.CLIENT_INFERENCE_CONTEXT_KEY = INFERENCE_KEY  # type: ignore[attr-defined]
    module.InferenceData = InferenceData  # type: ignore[attr-defined]
    module.CLIENT_EMBEDDING_CONTEXT_KEY = EMBEDDING_KEY  # type: ignore[attr-defined]
    module.EmbeddingData = EmbeddingData  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, UTIL_GENAI_MODULE, module)
    yield module


@pytest.fixture
def no_util_genai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, UTIL_GENAI_MODULE, raising=False)


def _chat() -> Operation:
    return Operation(OperationKind.CHAT, provider="openai", request_model="gpt-4o-mini")


def _embeddings() -> Operation:
    return Operation(OperationKind.EMBEDDINGS, provider="openai", request_model="te-3")


def _inside(otel: OTelHarness, op: Operation, **settings: object) -> dict[str, object]:
    """The suppression entries current while a run of ``op`` is active (then it ends)."""
    t = otel.telemetry(**settings)
    t.start("run", op, activate=True)
    seen = {
        k: otel_context.get_value(k)
        for k in (SUPPRESS_LANGUAGE_MODEL_KEY, INFERENCE_KEY, EMBEDDING_KEY)
    }
    t.end("run")
    return {k: v for k, v in seen.items() if v is not None}


def _after(keys: tuple[str, ...]) -> list[object]:
    return [otel_context.get_value(k) for k in keys]


def test_model_calls_set_openllmetry_key_only_inside_the_call_without_util_genai(
    otel: OTelHarness, no_util_genai: None
) -> None:
    assert _inside(otel, _chat()) == {SUPPRESS_LANGUAGE_MODEL_KEY: True}
    assert _inside(otel, _embeddings()) == {SUPPRESS_LANGUAGE_MODEL_KEY: True}
    assert _inside(otel, Operation(OperationKind.EXECUTE_TOOL, name="t")) == {}
    assert _after((SUPPRESS_LANGUAGE_MODEL_KEY,)) == [None]


def test_with_util_genai_loaded_each_call_gets_its_own_fresh_data_object(
    otel: OTelHarness, util_genai: types.ModuleType
) -> None:
    first = _inside(otel, _chat())
    second = _inside(otel, _chat())

    assert set(first) == {SUPPRESS_LANGUAGE_MODEL_KEY, INFERENCE_KEY}
    assert first[INFERENCE_KEY] == InferenceData() and second[INFERENCE_KEY] == InferenceData()
    one, two = first[INFERENCE_KEY], second[INFERENCE_KEY]
    assert isinstance(one, InferenceData) and isinstance(two, InferenceData)
    assert one is not two and one.attributes is not two.attributes  # nothing shared across calls
    assert _after((SUPPRESS_LANGUAGE_MODEL_KEY, INFERENCE_KEY, EMBEDDING_KEY)) == [None] * 3


def test_embeddings_get_util_genais_embedding_entry_and_other_runs_get_nothing(
    otel: OTelHarness, util_genai: types.ModuleType
) -> None:
    emb = _inside(otel, _embeddings())
    assert set(emb) == {SUPPRESS_LANGUAGE_MODEL_KEY, EMBEDDING_KEY}
    assert emb[EMBEDDING_KEY] == EmbeddingData()
    assert _inside(otel, Operation(OperationKind.STEP, name="step")) == {}
    assert _inside(otel, Operation(OperationKind.RETRIEVAL, name="vs")) == {}


def test_switched_off_nothing_is_set(otel: OTelHarness, util_genai: types.ModuleType) -> None:
    assert _inside(otel, _chat(), suppress_provider_spans=False) == {}
    assert _inside(otel, _embeddings(), suppress_provider_spans=False) == {}


def test_a_util_genai_without_these_names_falls_back_to_the_openllmetry_key(
    otel: OTelHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = types.ModuleType(UTIL_GENAI_MODULE)
    changed.CLIENT_INFERENCE_CONTEXT_KEY = 42  # type: ignore[attr-defined]  # not a key
    monkeypatch.setitem(sys.modules, UTIL_GENAI_MODULE, changed)

    assert _inside(otel, _chat()) == {SUPPRESS_LANGUAGE_MODEL_KEY: True}
    assert _inside(otel, _embeddings()) == {SUPPRESS_LANGUAGE_MODEL_KEY: True}
    assert len(otel.spans()) == 2  # the runs themselves are traced as usual


def _embed_with(
    otel: OTelHarness, published: int | None, raw_usage: object = None
) -> dict[str, Any]:
    """Attributes of an embeddings run whose provider instrumentation published ``published``
    input tokens into our context data (as a suppressed util-genai instrumentation does)."""
    t = otel.telemetry()
    op = _embeddings()
    op.estimate_input = lambda: ["one two three"]
    t.start("run", op, activate=True)
    data = otel_context.get_value(EMBEDDING_KEY)
    assert isinstance(data, EmbeddingData)
    data.usage_input_tokens = published
    t.end("run", Outcome(raw_usage=raw_usage))
    [span] = otel.span_dicts()
    otel.clear()
    return dict(span["attributes"])


def test_usage_a_suppressed_provider_published_replaces_the_estimate(
    otel: OTelHarness, util_genai: types.ModuleType
) -> None:
    published = _embed_with(otel, 42)
    assert published[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 42
    assert published[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_PROVIDER

    nothing_published = _embed_with(otel, None)
    assert nothing_published[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_ESTIMATED

    framework_reported = _embed_with(otel, 42, raw_usage={"prompt_tokens": 7})
    assert framework_reported[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7  # the framework's wins


def test_a_util_genai_data_class_that_cannot_be_built_leaves_only_the_openllmetry_key(
    otel: OTelHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NeedsArguments:
        def __init__(self, required: int) -> None:
            self.required = required

    module = types.ModuleType(UTIL_GENAI_MODULE)
    module.CLIENT_INFERENCE_CONTEXT_KEY = INFERENCE_KEY  # type: ignore[attr-defined]
    module.InferenceData = NeedsArguments  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, UTIL_GENAI_MODULE, module)

    assert _inside(otel, _chat()) == {SUPPRESS_LANGUAGE_MODEL_KEY: True}
    assert [s.name for s in otel.spans()] == ["chat gpt-4o-mini"]  # the span is not lost


def _chat_with(otel: OTelHarness, outcome: Outcome | None, **published: object) -> dict[str, Any]:
    """Attributes of a chat run whose suppressed provider instrumentation published
    ``published`` (InferenceData fields) into our context data, ended with ``outcome``."""
    t = otel.telemetry()
    t.start("run", _chat(), activate=True)
    data = otel_context.get_value(INFERENCE_KEY)
    assert isinstance(data, InferenceData)
    for name, value in published.items():
        setattr(data, name, value)
    t.end("run", outcome)
    [span] = otel.span_dicts()
    otel.clear()
    return dict(span["attributes"])


def _response(a: dict[str, Any]) -> tuple[Any, ...]:
    keys = (
        semconv.GEN_AI_RESPONSE_ID,
        semconv.GEN_AI_RESPONSE_MODEL,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS,
    )
    return tuple(a.get(k) for k in keys)


def test_published_response_fields_fill_only_what_the_framework_left_unset(
    otel: OTelHarness, util_genai: types.ModuleType
) -> None:
    published = {
        "response_id": "chatcmpl-published",
        "response_model": "gpt-4o-mini-2024-07-18",
        "response_finish_reasons": ["length"],
    }
    outcome = Outcome(response_id="run-id-from-framework", finish_reasons=[])

    a = _chat_with(otel, outcome, **published)

    assert _response(a) == ("run-id-from-framework", "gpt-4o-mini-2024-07-18", ["length"])
    # the caller's Outcome is left as it was given
    assert (outcome.response_id, outcome.response_model, outcome.finish_reasons) == (
        "run-id-from-framework",
        None,
        [],
    )
    assert _response(_chat_with(otel, None, **published)) == (
        "chatcmpl-published",
        "gpt-4o-mini-2024-07-18",
        ["length"],
    )
    assert _response(_chat_with(otel, Outcome())) == (None, None, None)  # nothing published


def test_cost_and_metrics_use_the_published_response_model(
    otel: OTelHarness, util_genai: types.ModuleType
) -> None:
    from genai_trace_core import normalize_usage
    from genai_trace_core.usage import compute_cost

    raw = {"prompt_tokens": 1000, "completion_tokens": 1000}
    a = _chat_with(otel, Outcome(raw_usage=raw), response_model="gpt-4o-2024-08-06")

    usage = normalize_usage(raw)
    assert usage is not None
    answered, requested = (compute_cost(m, "openai", usage) for m in ("gpt-4o", "gpt-4o-mini"))
    assert answered is not None and requested is not None
    assert a[semconv.COST_USD] == pytest.approx(answered.total_usd)
    assert answered.total_usd > requested.total_usd  # priced as the model that answered
    models = {
        p["attributes"].get(semconv.GEN_AI_RESPONSE_MODEL)
        for p in otel.metrics()[semconv.METRIC_INFERENCE_DURATION]
    }
    assert models == {"gpt-4o-2024-08-06"}


class RaisingInferenceData:
    """A data class whose published response id raises when read."""

    response_model = "gpt-4o-mini-published"

    @property
    def response_id(self) -> str:
        raise RuntimeError("a published field that raises")


def test_published_values_that_are_not_plain_short_strings_are_left_out(
    otel: OTelHarness, util_genai: types.ModuleType
) -> None:
    odd = _chat_with(
        otel,
        Outcome(),
        response_id=12345,
        response_model="m" * 10_000,
        response_finish_reasons=("stop", 7),
    )
    assert _response(odd) == (None, None, None)
    assert _response(_chat_with(otel, None, response_finish_reasons="stop")) == (None,) * 3


def test_a_published_field_that_raises_leaves_the_span_as_the_framework_reported_it(
    otel: OTelHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType(UTIL_GENAI_MODULE)
    module.CLIENT_INFERENCE_CONTEXT_KEY = INFERENCE_KEY  # type: ignore[attr-defined]
    module.InferenceData = RaisingInferenceData  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, UTIL_GENAI_MODULE, module)
    t = otel.telemetry()
    t.start("run", _chat(), activate=True)
    assert isinstance(otel_context.get_value(INFERENCE_KEY), RaisingInferenceData)

    t.end("run", Outcome(response_id="chatcmpl-1", raw_usage={"prompt_tokens": 3}))

    [span] = otel.span_dicts()
    a = span["attributes"]
    assert _response(a) == ("chatcmpl-1", None, None)
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 3
