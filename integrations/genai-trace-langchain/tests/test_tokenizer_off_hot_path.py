"""Issue 14, target 3: no tokenizer work on the app's thread when the provider reported usage
(whatever the settings), and none by default when it did not (the estimate is ceil(chars / 4));
tiktoken only when the user opted in to offline counts exported as ``gen_ai.usage.*``. Over the
real clients: langchain-openai's ``ChatOpenAI`` and ``OpenAIEmbeddings`` on the OpenAI wire."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from openai_clients import RESPONSE_MODEL, chat_model, embedder
from openai_wire import OpenAIWire, chat_completion, chat_stream, embeddings, usage

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.usage import _tokens  # internal: its loader is the tokenizer's one door
from genai_trace_langchain import trace_embeddings

pytest.importorskip("langchain_openai")


class Tokenizer:
    """Records every encoding core loads and every text it encodes, and the thread of each."""

    def __init__(self) -> None:
        self.loads: list[str] = []
        self.encodes: list[tuple[str, int]] = []  # (thread name, characters)

    def load(self, name: str) -> Any:
        self.loads.append(name)
        real = _tokens._load(name)
        encodes = self.encodes

        class Recording:
            def encode_ordinary(self, text: str) -> list[int]:
                encodes.append((threading.current_thread().name, len(text)))
                return list(real.encode_ordinary(text))

        return Recording()


@pytest.fixture
def tokenizer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tokenizer]:
    _tokens._reset_for_tests()  # an encoding loaded by an earlier test would bypass the loader
    recorder = Tokenizer()
    monkeypatch.setattr(_tokens, "_loader", recorder.load)
    yield recorder
    _tokens._reset_for_tests()


@pytest.mark.parametrize("offline_counts", [False, True], ids=["default", "opt-in"])
def test_a_chat_call_whose_provider_reported_usage_loads_and_encodes_nothing(
    otel: OTelHarness, make_handler: Any, clients: Any, tokenizer: Tokenizer, offline_counts: bool
) -> None:
    handler = make_handler(estimate_usage=offline_counts)
    wire = OpenAIWire(
        chat_completion(
            response_id="chatcmpl-tok-1",
            model=RESPONSE_MODEL,
            content="Paris.",
            token_usage=usage(11, 2),
        ),
        chat_stream(
            response_id="chatcmpl-tok-2",
            model=RESPONSE_MODEL,
            pieces=["Ber", "lin."],
            token_usage=usage(12, 3),
        ),
    )
    model = chat_model(wire, clients)
    assert model.invoke("Capital of France?", {"callbacks": [handler]}).content == "Paris."
    streamed = model.stream("Capital of Germany?", {"callbacks": [handler]}, stream_usage=True)
    assert "".join(str(c.content) for c in streamed) == "Berlin."

    assert (tokenizer.loads, tokenizer.encodes) == ([], [])
    usages = [
        (
            a[semconv.GEN_AI_USAGE_INPUT_TOKENS],
            a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
            a[semconv.USAGE_SOURCE],
        )
        for a in (s["attributes"] for s in otel.span_dicts())
    ]
    assert usages == [(11, 2, "provider"), (12, 3, "provider")]


def test_embeddings_without_usage_are_estimated_without_a_tokenizer_by_default(
    otel: OTelHarness, make_handler: Any, clients: Any, tokenizer: Tokenizer
) -> None:
    texts = ["Paris is the capital of France.", "Berlin is the capital of Germany."]
    traced = trace_embeddings(
        embedder(OpenAIWire(embeddings(dimensions=4)), clients), handler=make_handler()
    )
    traced.embed_documents(texts)

    assert (tokenizer.loads, tokenizer.encodes) == ([], [])
    [span] = otel.span_dicts()
    a = span["attributes"]
    # LangChain drops the provider's usage: ceil(31 / 4) + ceil(33 / 4), flagged, under our name
    assert (
        a[semconv.USAGE_ESTIMATED_INPUT_TOKENS],
        a[semconv.USAGE_ESTIMATOR],
        a[semconv.USAGE_SOURCE],
    ) == (8 + 9, "heuristic", "estimated")
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in a
    assert a[semconv.COST_USD] > 0  # the estimate still prices the call


def test_opted_in_offline_counts_tokenize_on_the_calling_thread(
    otel: OTelHarness, make_handler: Any, clients: Any, tokenizer: Tokenizer
) -> None:
    texts = ["Paris is the capital of France.", "Berlin is the capital of Germany."]
    wire = OpenAIWire(embeddings(dimensions=4))
    traced = trace_embeddings(embedder(wire, clients), handler=make_handler(estimate_usage=True))
    traced.embed_documents(texts)

    me = threading.current_thread().name
    assert tokenizer.loads == ["cl100k_base"]
    assert tokenizer.encodes == [(me, 31), (me, 33)]
    [span] = otel.span_dicts()
    a = span["attributes"]
    sent = sum(len(ids) for body in wire.bodies() for ids in body["input"])
    assert (a[semconv.GEN_AI_USAGE_INPUT_TOKENS], a[semconv.USAGE_ESTIMATOR]) == (
        sent,
        "cl100k_base",
    )
