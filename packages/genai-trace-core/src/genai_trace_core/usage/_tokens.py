"""Offline token estimates, used only when the provider reports no usage.

Two estimators. ``estimate_usage(..., exact=False)`` is the cheap one the span path uses by
default: ``ceil(len(text) / 4)`` per text, estimator ``"heuristic"``, about a microsecond, and
tiktoken is never imported. The exact counter (``count_tokens``, ``estimate_usage`` with the
default ``exact=True``) runs tiktoken; the span path uses it only when the user opted in to
offline counts exported as ``gen_ai.usage.*`` (``GENAI_TRACE_ESTIMATE_USAGE``), and it then
tokenizes on the caller's thread.

The encoding is chosen by model family: ``o200k_base`` for gpt-4o, gpt-4.1, gpt-4.5, gpt-5*,
chatgpt-4o and the o-series (o1, o3, o4...); ``cl100k_base`` for gpt-4, gpt-3.5, the
text-embedding models and, as the default estimator, every other model (an estimate for a
non-OpenAI model is an approximation whatever the encoding).

Encodings are loaded lazily, once per process, under a lock; tiktoken is not even imported until
the first estimate. If an encoding cannot be loaded (tiktoken missing, an offline machine without
``TIKTOKEN_CACHE_DIR``, any tiktoken error) the failure is cached, logged once at debug, and the
heuristic ``ceil(len(text) / 4)`` per text is used instead, with estimator ``"heuristic"``.
This module never sets ``TIKTOKEN_CACHE_DIR``.

Counts are of the texts only: no per-message overhead is added. An estimate reads at most
``MAX_ENCODED_CHARS`` characters: beyond that, tokens are extrapolated from the characters read
(the count is still an estimate, and flagged as one by ``estimate_usage``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from genai_trace_core import semconv
from genai_trace_core._safe import log_once
from genai_trace_core.records import Usage

__all__ = [
    "HEURISTIC",
    "MAX_ENCODED_CHARS",
    "count_tokens",
    "encoding_for_model",
    "estimate_tokens",
    "estimate_usage",
]

HEURISTIC = "heuristic"
O200K = "o200k_base"
CL100K = "cl100k_base"

# The most characters one estimate encodes (~1 ms of tiktoken; ~5 ms on pathological text such
# as one 16K-character "word"). Beyond it the count is extrapolated: the cost on the app's thread
# is bounded whatever the prompt's size.
MAX_ENCODED_CHARS = 16_384

_O200K_MODELS = re.compile(r"^(?:gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o[1-9](?:-|$))")

_lock = threading.Lock()
# encoding name -> a loaded tiktoken Encoding, or None when loading failed (not retried).
_encodings: dict[str, Any] = {}


def _load(name: str) -> Any:
    import tiktoken

    return tiktoken.get_encoding(name)


# Replaceable in tests; takes an encoding name, returns an object with ``encode_ordinary``.
_loader: Callable[[str], Any] = _load


def encoding_for_model(model: str | None) -> str:
    """The tiktoken encoding name used to estimate tokens for ``model``."""
    if not model:
        return CL100K
    m = model.strip().lower().rsplit("/", 1)[-1]
    if _O200K_MODELS.match(m):
        return O200K
    return CL100K


def _encoding(name: str) -> Any:
    try:
        return _encodings[name]
    except KeyError:
        pass
    with _lock:
        if name not in _encodings:
            try:
                _encodings[name] = _loader(name)
            except Exception:  # any failure means "use the heuristic"
                log_once(
                    "tokens.load." + name,
                    "genai-trace: tiktoken encoding %s unavailable; estimating tokens as "
                    "ceil(chars/4)",
                    name,
                )
                _encodings[name] = None
        return _encodings[name]


def _heuristic(texts: Iterable[str]) -> int:
    return sum(-(-len(t) // 4) for t in texts if isinstance(t, str))


def _encode_bounded(encoding: Any, items: list[str], total: int) -> int:
    """Tokens of ``items``, reading at most ``MAX_ENCODED_CHARS`` characters in all: the count of
    what was read, scaled by ``total / read`` (characters) when the texts are longer."""
    budget = MAX_ENCODED_CHARS
    read = tokens = 0
    for t in items:
        if budget <= 0:
            break
        piece = t if len(t) <= budget else t[:budget]
        tokens += len(encoding.encode_ordinary(piece))
        read += len(piece)
        budget -= len(piece)
    if read >= total or read == 0:
        return tokens
    return -(-tokens * total // read)  # extrapolated from the characters read


def count_tokens(texts: Iterable[str], model: str | None) -> tuple[int, str]:
    """Count the tokens of ``texts`` for ``model``: ``(count, estimator)``, where estimator is
    the encoding name or ``"heuristic"``. Non-string items are skipped; never raises. At most
    ``MAX_ENCODED_CHARS`` characters are encoded; longer texts are extrapolated from them."""
    items = [t for t in texts if isinstance(t, str) and t] if texts is not None else []
    name = encoding_for_model(model)
    encoding = _encoding(name)
    if encoding is not None:
        try:
            return _encode_bounded(encoding, items, sum(map(len, items))), name
        except Exception:  # fall back rather than break the caller
            log_once("tokens.encode." + name, "genai-trace: tiktoken %s failed to encode", name)
    return _heuristic(items), HEURISTIC


def estimate_tokens(texts: Iterable[str]) -> int:
    """The cheap estimate of the tokens of ``texts``: ``ceil(len(text) / 4)`` per text (characters,
    not bytes). Non-string items are skipped; no tokenizer is loaded."""
    return _heuristic(texts) if texts is not None else 0


def estimate_usage(
    model: str | None,
    input_texts: Iterable[str],
    output_texts: Iterable[str] | None = None,
    *,
    exact: bool = True,
) -> Usage:
    """An estimated :class:`Usage` (``source="estimated"``, ``estimator`` set).

    ``output_texts=None`` (embeddings) leaves ``output_tokens`` unset. ``exact=True`` counts with
    the model's tiktoken encoding (see :func:`count_tokens`); ``exact=False`` uses
    :func:`estimate_tokens` (estimator ``"heuristic"``), which never loads a tokenizer.
    """
    if not exact:
        return Usage(
            input_tokens=estimate_tokens(input_texts),
            output_tokens=None if output_texts is None else estimate_tokens(output_texts),
            source=semconv.USAGE_SOURCE_ESTIMATED,
            estimator=HEURISTIC,
        )
    input_count, estimator = count_tokens(input_texts, model)
    output_count: int | None = None
    if output_texts is not None:
        output_count, out_estimator = count_tokens(output_texts, model)
        if out_estimator == HEURISTIC:
            estimator = HEURISTIC
    return Usage(
        input_tokens=input_count,
        output_tokens=output_count,
        source=semconv.USAGE_SOURCE_ESTIMATED,
        estimator=estimator,
    )


def _reset_for_tests() -> None:
    """Forget loaded encodings and cached failures (tests replace ``_loader`` themselves)."""
    with _lock:
        _encodings.clear()
