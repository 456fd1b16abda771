"""A streaming query read after the ``attribution()`` block that made it (a web framework's
streaming response reads it after the handler returned): the model call starts then, after the
query and its synthesizer ended, outside the block. It is still the caller's: its span, its
metrics and its user's budget carry the attribution of the run it was made for (they had none
until 2026-12-07: the run it started under had ended, so only the current block counted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from li_openai_wire import WORDS, openai_clients
from li_support import Instrument, shape
from llama_index.core import Document, VectorStoreIndex
from llama_index.core import Settings as LISettings
from llama_index.core.callbacks import CallbackManager

from genai_trace_core import Budget, BudgetTracker, Settings, attribution
from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import OpenTelemetryCallbackHandler

QUERY = "RetrieverQueryEngine.query"
TREE = [
    [
        QUERY,
        [
            ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
            ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
        ],
    ]
]
LEGACY_TREE = [
    [
        "query",
        [
            ["retrieval", [["embeddings text-embedding-3-small", []]]],
            ["synthesize", [["chat gpt-4o-mini", []]]],
        ],
    ]
]


def _index() -> VectorStoreIndex:
    """An index on the real OpenAI clients (usage on the streamed answer too)."""
    llm, embed = openai_clients()
    llm.additional_kwargs = {"stream_options": {"include_usage": True}}
    LISettings.llm = llm
    LISettings.embed_model = embed
    idx = VectorStoreIndex.from_documents([Document(text="Paris is the capital of France.")])
    idx.set_index_id("capitals")
    return idx


@pytest.fixture
def index() -> VectorStoreIndex:
    return _index()  # built before instrumenting


@pytest.fixture
def per_user() -> Iterator[tuple[Budget, BudgetTracker]]:
    budget = Budget(limit_usd=1.0, scope="user")
    tracker = BudgetTracker([budget]).install()
    yield budget, tracker
    tracker.uninstall()


def _read_after_the_block(index: VectorStoreIndex, reader: str | None = None) -> str:
    engine = index.as_query_engine(similarity_top_k=1, streaming=True)
    with attribution(user_id="alice", tenant_id="acme"):
        response = engine.query("Capital of France?")
    if reader is None:
        return "".join(response.response_gen)  # the model call starts here, outside the block
    with attribution(user_id=reader):  # another request's block: its reader is not the owner
        return "".join(response.response_gen)


def _owners(otel: OTelHarness) -> dict[str, tuple[object, object]]:
    return {
        d["name"]: (d["attributes"].get(s.USER_ID), d["attributes"].get(s.TENANT_ID))
        for d in otel.span_dicts()
    }


def _spend(otel: OTelHarness) -> float:
    return sum(d["attributes"].get(s.COST_USD, 0.0) for d in otel.span_dicts())


@pytest.mark.parametrize("reader", [None, "bob"])
def test_streamed_answer_read_after_the_block_is_the_callers_span_metric_and_budget(
    otel: OTelHarness,
    instrument: Instrument,
    index: VectorStoreIndex,
    per_user: tuple[Budget, BudgetTracker],
    reader: str | None,
) -> None:
    instrument(metric_attribute_keys="user.id")
    assert _read_after_the_block(index, reader) == "".join(WORDS)

    assert shape(otel.tree(attributes=False)) == TREE
    owners = _owners(otel)
    assert set(owners.values()) == {("alice", "acme")}, owners
    chat = next(d for d in otel.span_dicts() if d["name"] == "chat gpt-4o-mini")
    assert chat["attributes"][s.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert chat["attributes"][s.COST_USD] > 0
    budget, tracker = per_user
    assert tracker.spent(budget, "alice") == pytest.approx(_spend(otel))
    assert tracker.spent(budget, "bob") == 0
    metrics = otel.metrics()
    for name in (s.METRIC_COST, s.METRIC_INFERENCE_DURATION, s.METRIC_USAGE_OUTPUT_TOKENS):
        assert {p["attributes"].get(s.USER_ID) for p in metrics[name]} == {"alice"}, name


def test_legacy_handler_streamed_answer_read_after_the_block_is_the_callers(
    otel: OTelHarness, per_user: tuple[Budget, BudgetTracker]
) -> None:
    handler = OpenTelemetryCallbackHandler(
        tracer_provider=otel.tracer_provider, settings=Settings()
    )
    LISettings.callback_manager = CallbackManager([handler])
    index = _index()  # its retriever reports to the handler
    otel.clear()
    assert _read_after_the_block(index) == "".join(WORDS)

    assert shape(otel.tree(attributes=False)) == LEGACY_TREE
    owners = _owners(otel)
    assert set(owners.values()) == {("alice", "acme")}, owners
    budget, tracker = per_user
    assert _spend(otel) > 0
    assert tracker.spent(budget, "alice") == pytest.approx(_spend(otel))
    assert handler.telemetry.open_count() == 0
