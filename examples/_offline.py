"""Offline stand-ins shared by the examples: keyword-stem vectors that retrieve sensibly and an
extractive "model" that answers with the context sentence closest to the question. Pure text, no
framework, so each example imports only its own framework."""

from __future__ import annotations

import hashlib
import math
import re

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"what", "when", "which", "does", "have", "much", "long", "with", "from", "that"})


def stems(text: str) -> set[str]:
    """Crude stems: words of 4+ letters, stop words out, plural ``s`` off, first 5 letters."""
    return {w.rstrip("s")[:5] for w in _WORD.findall(text.lower()) if len(w) > 3 and w not in _STOP}


def stem_vector(text: str, size: int) -> list[float]:
    """Hashed word stems plus a constant component (never a zero vector), unit length."""
    vec = [0.0] * size
    vec[0] = 0.5
    for stem in stems(text):
        digest = hashlib.blake2b(stem.encode(), digest_size=4).digest()
        vec[1 + int.from_bytes(digest, "big") % (size - 1)] += 1.0
    norm = math.sqrt(sum(v * v for v in vec))
    return [v / norm for v in vec]


def best_sentence(context: str, question: str) -> str:
    """The context sentence sharing most word stems with the question."""
    context = re.sub(r"\[[^\]]*\]\s*", "", context)  # [Title] prefixes
    context = re.sub(r"(?<!\n)\n(?!\n)", " ", context)  # hard-wrapped lines back together
    pieces = re.split(r"(?<=\.)\s+|\n{2,}", context)  # sentences and paragraphs
    sentences = [s.strip() for s in pieces if re.search(r"[a-z]{3}", s) and ":" not in s[:20]]
    wanted = stems(question)
    best = max(sentences, key=lambda s: len(wanted & stems(s)), default="")
    return best or "I don't know."


def answer_from_prompt(prompt: str) -> str:
    """Split a RAG prompt into context and question (``Question:``/``Query:`` marks the question,
    which comes last) and answer extractively."""
    for mark in ("Question:", "Query:"):
        context, found, question = prompt.rpartition(mark)
        if found:
            return best_sentence(context, question.split("Answer:")[0])
    return best_sentence(prompt, prompt)
