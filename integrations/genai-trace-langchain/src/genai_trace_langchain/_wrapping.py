"""Wrapping one method of a framework class while instrumented, and restoring it afterwards.

Every wrapper this integration installs carries its original under :data:`ORIGINAL`, so a second
``wrap_method`` is a no-op and ``unwrap_method`` finds what to put back. Used by the retriever
``_get_ls_params`` and the LangGraph ``compile`` patches; the embeddings patcher marks its
wrappers with the same attribute.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

ORIGINAL = "__genai_trace_original__"


def wrap_method(cls: type, name: str, make: Callable[[Any], Callable[..., Any]]) -> None:
    """Replace ``cls.name`` (defined on ``cls`` itself) by ``make(original)``, once."""
    original = cls.__dict__[name]
    if hasattr(original, ORIGINAL):
        return
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, ORIGINAL, original)
    setattr(cls, name, wrapper)


def unwrap_method(cls: type, name: str) -> None:
    """Put back what :func:`wrap_method` replaced; a no-op when ``cls.name`` is not ours."""
    original = getattr(cls.__dict__.get(name), ORIGINAL, None)
    if original is not None:
        setattr(cls, name, original)
