"""``client_attributes``: the same values as ``getattr(obj, name, None)``, without pydantic's
raising ``__getattr__`` for names a model class does not define (an embeddings call probes 14)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from genai_trace_core import client_attributes, client_base_url

pydantic = pytest.importorskip("pydantic")

NAMES = (
    "model", "model_name", "model_id", "deployment", "base_url", "_client", "client", "extra_one",
    "_token", "_secret", "label", "kind", "describe", "added_later", "planted", "missing",
)  # fmt: skip


class Model(pydantic.BaseModel):
    model: str = "m-1"
    model_name: str | None = None
    client: Any = None
    kind: ClassVar[str] = "class-var"
    _token: str = pydantic.PrivateAttr(default="tok")
    _secret: str = pydantic.PrivateAttr()

    @property
    def label(self) -> str:
        return f"label-{self.model}"

    def describe(self) -> str:
        return "method"


class Extra(Model):
    model_config = pydantic.ConfigDict(extra="allow")


class OwnGetattr(pydantic.BaseModel):
    model: str = "x"

    def __getattr__(self, name: str) -> Any:
        return f"computed-{name}"


class Delegating:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _expected(obj: Any) -> list[Any]:
    return [getattr(obj, name, None) for name in NAMES]


def _same(obj: Any) -> None:
    got = list(client_attributes(obj, NAMES))
    want = _expected(obj)
    assert [type(v) for v in got] == [type(v) for v in want]
    assert got == want


def test_same_values_as_getattr_on_pydantic_models_and_other_objects() -> None:
    plain = Model(model_name="named")
    extra = Extra(model_id="from-extra", extra_one=1, base_url="http://x:1")  # type: ignore[call-arg]
    extra._secret = "set"
    for obj in (plain, extra, OwnGetattr(), Delegating(extra), object(), None, "text"):
        _same(obj)


def test_a_class_attribute_added_later_and_an_instance_value_planted_are_seen() -> None:
    obj = Model()
    _same(obj)
    Model.added_later = "on-the-class"  # type: ignore[attr-defined]
    try:
        object.__setattr__(obj, "planted", "in-the-dict")
        _same(obj)
        assert "on-the-class" in client_attributes(obj, ("added_later",))
    finally:
        del Model.added_later  # type: ignore[attr-defined]
    _same(obj)


def test_absent_names_never_reach_pydantics_getattr(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = pydantic.BaseModel.__getattr__

    def spy(self: Any, item: str) -> Any:
        calls.append(item)
        return original(self, item)

    class Embedder(pydantic.BaseModel):
        size: int = 8

    monkeypatch.setattr(pydantic.BaseModel, "__getattr__", spy)
    import genai_trace_core.usage._probe as probe

    monkeypatch.setattr(probe._Pydantic, "getattr_fn", spy)
    obj = Embedder()
    assert client_base_url(obj) is None
    assert list(client_attributes(obj, ("model", "model_name", "size"))) == [None, None, 8]
    assert calls == []


def test_reading_stops_at_the_first_base_url_found() -> None:
    class Client(pydantic.BaseModel):
        openai_api_base: str = "https://gateway.example:8443/v1"

        @property
        def endpoint(self) -> str:
            raise RuntimeError("never read: a base URL was found before it")

    assert client_base_url(Client()) == "https://gateway.example:8443/v1"
