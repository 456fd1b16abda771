"""``getattr(obj, name, None)`` for the attributes integrations probe on model objects, cheaper.

Integrations look for a model's name and base URL under several attribute names, most of them
absent on any one class. LangChain and LlamaIndex model objects are pydantic models, whose
``__getattr__`` (the fallback for a name normal lookup did not find) is Python code that raises
``AttributeError``: about 2 µs per absent name, 14 of them per LangChain embeddings call (30 µs).
For a name no class in the model's MRO defines and pydantic does not hold as a private attribute,
that fallback can only return the value of an extra field (``__pydantic_extra__``), and normal
lookup only the instance's own ``__dict__`` entry: :func:`client_attributes` reads those two
directly, with the same result (5 µs instead of 30 per embeddings call). The class namespaces are
read at every call, nothing is cached. Every other object, and every other name (a class
attribute, a property, a private attribute), goes through ``getattr``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

_MISSING = object()
_OBJECT_GETATTRIBUTE = object.__getattribute__


class _Pydantic:
    getattr_fn: Any = None  # pydantic.BaseModel.__getattr__, once pydantic is imported


def _pydantic_getattr() -> Any:
    fn = _Pydantic.getattr_fn
    if fn is None:
        main = sys.modules.get("pydantic.main")
        base = getattr(main, "BaseModel", None)
        fn = _Pydantic.getattr_fn = vars(base).get("__getattr__") if base is not None else None
    return fn


def _class_defines(spaces: list[Any], name: str) -> bool:
    """Whether a class of the MRO (``spaces``: their namespaces) defines ``name``: read per
    call, so an attribute added to a class later is seen at once."""
    for space in spaces:  # noqa: SIM110 - a loop: no generator per probed name
        if name in space:
            return True
    return False


def client_attributes(obj: Any, names: tuple[str, ...]) -> Iterator[Any]:
    """``getattr(obj, name, None)`` for each of ``names`` in turn, lazily (a caller that stops
    early reads no more), without pydantic's raising fallback for the names ``obj``'s pydantic
    model class does not define (same values)."""
    cls = type(obj)
    fallback = _pydantic_getattr()
    pydantic = (
        fallback is not None
        and getattr(cls, "__getattr__", None) is fallback
        and getattr(cls, "__getattribute__", None) is _OBJECT_GETATTRIBUTE
    )
    private = getattr(cls, "__private_attributes__", None) if pydantic else None
    own = getattr(obj, "__dict__", None) if pydantic else None
    if not isinstance(private, dict) or not isinstance(own, dict):
        for name in names:
            yield getattr(obj, name, None)
        return
    spaces = [vars(k) for k in cls.__mro__]
    try:
        extra = object.__getattribute__(obj, "__pydantic_extra__")
    except AttributeError:
        extra = None
    for name in names:
        if name in private or _class_defines(spaces, name):
            yield getattr(obj, name, None)
            continue
        value = own.get(name, _MISSING)
        if value is _MISSING:  # pydantic's fallback: an extra field, else absent
            value = extra[name] if extra and name in extra else None
        yield value
