"""Usage is found on pydantic models wherever ``getattr`` would find it (fields, extras,
properties, private attributes), though fields are read without probing ``__getattr__``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from genai_trace_core.records import Usage
from genai_trace_core.usage import normalize_usage

COUNTS = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
EXPECTED = Usage(input_tokens=7, output_tokens=3)


class WithField(BaseModel):
    text: str = ""
    raw: Any = None


class WithExtra(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str = ""


class WithProperty(BaseModel):
    text: str = ""

    @property
    def usage(self) -> dict[str, int]:
        return COUNTS


class WithPrivate(BaseModel):
    text: str = ""
    _raw_response: Any = PrivateAttr(default=None)


class CountsModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt_tokens: int | None = None


def test_usage_under_a_model_field_is_found() -> None:
    assert normalize_usage(WithField(raw={"usage": COUNTS})) == EXPECTED


def test_usage_under_an_extra_field_is_found() -> None:
    assert normalize_usage(WithExtra(usage=COUNTS)) == EXPECTED


def test_usage_under_a_property_is_found() -> None:
    assert normalize_usage(WithProperty()) == EXPECTED


def test_usage_under_a_private_attribute_is_found() -> None:
    model = WithPrivate()
    model._raw_response = {"usage": COUNTS}
    assert normalize_usage(model) == EXPECTED


def test_counts_split_between_a_field_and_an_extra_are_both_read() -> None:
    assert normalize_usage(CountsModel(prompt_tokens=7, completion_tokens=3)) == EXPECTED


def test_a_model_without_usage_gives_none() -> None:
    assert normalize_usage(WithField(text="no usage here")) is None
