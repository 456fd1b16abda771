"""Tags and metadata an app passes that are not plain strings (an integer id, ``None``, a value
whose ``__str__`` raises) cost at most that value, never the request's spans: until 2026-12-07 a
tag that was not a ``str`` made every run of the request start no span (a debug log only)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain.testing import FakeChatOpenAI


class Unprintable:
    """A value whose text form raises (a half-initialised ORM object, a proxy)."""

    def __str__(self) -> str:
        raise RuntimeError("no text")

    __repr__ = __str__


def _chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    return (prompt | FakeChatOpenAI() | StrOutputParser()).with_config(run_name="support")


EXPECTED_TREE = [
    ("ChatPromptTemplate", "invoke_workflow support"),
    ("StrOutputParser", "invoke_workflow support"),
    ("chat gpt-4o-mini", "invoke_workflow support"),
    ("invoke_workflow support", None),
]


def _tree(otel: OTelHarness) -> list[tuple[str, str | None]]:
    spans = otel.spans()
    names = {s.context.span_id: s.name for s in spans}
    return sorted((s.name, names.get(s.parent.span_id) if s.parent else None) for s in spans)


@pytest.mark.parametrize(
    ("tags", "exported"),
    [
        ([42], ("42",)),
        ([None], None),
        ([Unprintable()], ("<Unprintable>",)),
    ],
    ids=["int", "none", "unprintable"],
)
def test_a_tag_that_is_not_a_string_keeps_every_span(
    otel: OTelHarness, make_handler: Any, tags: list[Any], exported: tuple[str, ...] | None
) -> None:
    handler = make_handler()
    assert _chain().invoke({"q": "hi"}, {"callbacks": [handler], "tags": tags}) == "Answer: hi"

    assert _tree(otel) == EXPECTED_TREE
    root = next(s for s in otel.spans() if s.parent is None)
    assert (root.attributes or {}).get(semconv.RUN_TAGS) == exported
    assert all(semconv.ERROR_TYPE not in (s.attributes or {}) for s in otel.spans())


def test_an_allow_listed_metadata_value_that_cannot_be_printed_keeps_every_span(
    otel: OTelHarness, make_handler: Any
) -> None:
    handler = make_handler(metadata_keys=("order", "team"))
    meta = {"order": Unprintable(), "team": "ai"}
    assert _chain().invoke({"q": "hi"}, {"callbacks": [handler], "metadata": meta}) == "Answer: hi"

    assert _tree(otel) == EXPECTED_TREE
    for span in otel.spans():
        attrs = span.attributes or {}
        assert attrs["genai_trace.metadata.order"] == "<Unprintable>"
        assert attrs["genai_trace.metadata.team"] == "ai"
