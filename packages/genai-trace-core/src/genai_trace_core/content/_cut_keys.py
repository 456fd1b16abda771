"""Keys cut short by a truncation: no piece of a key survives an ellipsis.

Libraries shorten long values with ``...`` before they quote them: pydantic's validation errors
keep the first and the last ~24 characters of an input
(``input_value='token ghp_R4nd0mT0k3nV4l...efghijklmnop1234 thanks'``), ``reprlib`` and many
loggers do the same. Neither half of a key cut that way matches its format (too short after its
prefix; no prefix at all), so the detectors of :mod:`._detectors` let both through. Around each
ellipsis (``...`` or ``…``), after the detectors ran:

- a key prefix of :mod:`._detectors` and the key characters after it, right before the ellipsis
  (``ghp_R4nd0m...``), become that key's marker, and the run right after the ellipsis, the rest
  of the same key, goes with them: ``[REDACTED:github_token]...``. With nothing after the
  ellipsis the head must look random (a digit or an upper-case letter: not ``sk-learn...``);
- after a key's marker (``[REDACTED:openai_key]...4GdS6AeUo1``) the run after the ellipsis goes;
- a run after an ellipsis that is shaped like the end of a random key (8 or more key characters
  with a lower-case letter, an upper-case letter and a digit: ``...lu3Abcdefghijklmnop1234``)
  becomes ``[REDACTED:key_fragment]``, whatever is before it: the key's prefix may be the part
  that was cut out;
- with the personal-data detectors on, an email address cut after its ``@``
  (``jane.doe@ex...``) becomes ``[REDACTED:email]...``.

Prose keeps its ellipses (``wait...what``, ``v1...v2``, ``2024...2025``, a commit range
``9fceb02...e4f5a6b``). Texts without an ellipsis cost two ``in`` tests.
"""

from __future__ import annotations

import re
from typing import Final

_KEY_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_BEFORE: Final = _KEY_CHARS | {"]", "@", "."}
_REACH: Final = 300  # how far back from an ellipsis a key's head is looked for
_ELLIPSIS: Final = re.compile(r"\.\.\.|…")
_RUN: Final = re.compile(r"[A-Za-z0-9_\-]*")
# (label, prefix): the literal starts of the key formats of ``_detectors.SECRET_RULES``.
_PREFIXES: Final = (
    ("anthropic_key", r"sk-ant-"),
    ("openai_key", r"sk-(?:proj-|svcacct-|admin-)?"),
    ("stripe_key", r"[rs]k_(?:live|test)_"),
    ("google_key", r"AIza"),
    ("google_token", r"ya29\."),
    ("aws_key", r"A(?:KIA|SIA|BIA|CCA)"),
    ("github_token", r"gh[pousr]_|github_pat_"),
    ("gitlab_token", r"glpat-"),
    ("slack_token", r"xox[abposre]-"),
    ("hf_token", r"hf_"),
    ("groq_key", r"gsk_"),
    ("xai_key", r"xai-"),
    ("perplexity_key", r"pplx-"),
    ("replicate_token", r"r8_"),
    ("langsmith_key", r"lsv2_(?:pt|sk)_"),
    ("npm_token", r"npm_"),
    ("jwt", r"eyJ"),
)
_PREFIX: Final = {label: re.compile(prefix) for label, prefix in _PREFIXES}
# A prefix (not inside an ASCII word, like the detectors) and at least one key character, ending
# where the ellipsis starts (searched with ``endpos`` at the ellipsis).
_HEAD: Final = re.compile(
    "(?<![A-Za-z])(?:" + "|".join(p for _, p in _PREFIXES) + r")[A-Za-z0-9_\-]+\Z"
)
_SECRET_MARKER: Final = re.compile(
    r"\[REDACTED:(?:" + "|".join(label for label, _ in _PREFIXES) + r"|bearer_token)\]\Z"
)
_EMAIL_HEAD: Final = re.compile(r"(?<![\w.%+'-])[\w.%+-][\w.%+'-]{0,63}@[A-Za-z0-9.\-]{0,255}\Z")


def _label(head: str) -> str:
    # longest prefix first: "sk-ant-" is Anthropic's, "sk-" OpenAI's
    return next(label for label, prefix in _PREFIXES if _PREFIX[label].match(head))


def _email_head(text: str, low: int, start: int) -> re.Match[str] | None:
    at = text.rfind("@", low, start)
    return None if at < 0 else _EMAIL_HEAD.search(text, max(low, at - 64), start)


def _random(head: str) -> bool:
    """Whether a key's head cut at an ellipsis with nothing after it looks random: a digit or an
    upper-case letter after its prefix ("sk-proj-Q7vL..."), unlike prose ("sk-learn...")."""
    prefix = _PREFIX[_label(head)].match(head)
    return not head[prefix.end() if prefix else 0 :].islower()


def _key_tail(run: str) -> bool:
    """Whether a run right after an ellipsis looks like the end of a random key."""
    return (
        len(run) >= 8
        and any(c.isdigit() for c in run)
        and any(c.islower() for c in run)
        and any(c.isupper() for c in run)
    )


def mask_cut_keys(text: str, personal: bool = False) -> str:
    """``text`` with the pieces of keys cut at an ellipsis masked (module docstring);
    ``personal``: also emails cut after their ``@`` (the built-in redactors are on)."""
    if "..." not in text and "…" not in text:
        return text
    out: list[str] = []
    done = previous = 0
    for ellipsis in _ELLIPSIS.finditer(text):
        start, end = ellipsis.span()
        if start < done:
            continue
        low = max(done, previous, start - _REACH)  # a head never spans another ellipsis
        previous = end
        if text[start - 1 : start] not in _BEFORE and text[end : end + 1] not in _KEY_CHARS:
            continue  # nothing of a key or an address touches it ("so... then", "(…)")
        first = start
        while first > low and text[first - 1] in _KEY_CHARS:
            first -= 1
        if text.endswith("ya29.", max(low, first - 5), first):  # the one prefix with a dot
            first -= 5
        tail = _RUN.match(text, end)
        after = tail.end() if tail is not None else end
        head = _HEAD.search(text, first, start)
        if head is not None and (after > end or _random(head.group())):
            marker = f"[REDACTED:{_label(head.group())}]"
            out += (text[done : head.start()], marker, ellipsis.group())
        elif text[start - 1 : start] == "]" and _SECRET_MARKER.search(text, low, start):
            out += (text[done:start], ellipsis.group())
        elif personal and (email := _email_head(text, low, start)) is not None:
            out += (text[done : email.start()], "[REDACTED:email]", ellipsis.group())
            after = end
        elif tail is not None and _key_tail(tail.group()):
            out += (text[done:end], "[REDACTED:key_fragment]")
        else:
            continue
        done = after
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)
