r"""Keys cut short by a truncation: no piece of a key survives an ellipsis.

Libraries shorten long values with ``...`` before they quote them: pydantic's validation errors
keep the first and the last ~24 characters of an input
(``input_value='token ghp_R4nd0mT0k3nV4l...efghijklmnop1234 thanks'``), ``reprlib`` and many
loggers do the same. Neither half of a key cut that way matches its format (too short after its
prefix; no prefix at all), so the detectors of :mod:`._detectors` let both through. Around each
ellipsis (``...``, ``…``, ``[...]``, ``\u2026`` in JSON written in ASCII, a space on either
side or none), after the detectors ran:

- a key prefix of :mod:`._detectors` and the key characters after it, right before the ellipsis
  (``ghp_R4nd0m...``, also after an escape: ``\nghp_R4nd0m...``), become that key's marker, and
  the run right after the ellipsis, the rest of the same key, goes with them:
  ``[REDACTED:github_token]...`` (after a spaced ellipsis a word stays: ``ghp_R4nd0m ...
  thanks``). The head must look random (a digit or an upper-case letter that does not just start
  a word: not ``sk-learn...``, ``hf_hub...download``, ``xai-Grok...``) or the run after the
  ellipsis must;
- after a key's marker (``[REDACTED:openai_key]...4GdS6AeUo1``) the run after the ellipsis goes;
- a run right after an ellipsis that is shaped like the end of a random key (12 or more key
  characters, 16 when no key character touches the ellipsis on its left; a digit, both cases
  mixed as in random text: :func:`_key_tail`) becomes ``[REDACTED:key_fragment]``, whatever is
  before it: the key's prefix may be the part that was cut out. Names made of words keep their
  ellipsis: ``Loading model...Llama-2-7b-chat-hf``, ``{...s3Config}``, ``from ...v2Models``,
  ``Step 1...Step2Final``;
- with the personal-data detectors on, an email address cut after its ``@``
  (``jane.doe@ex...``) becomes ``[REDACTED:email]...``.

Prose keeps its ellipses (``wait...what``, ``v1...v2``, ``2024...2025``, a commit range
``9fceb02...e4f5a6b``). Texts without an ellipsis cost two ``in`` tests (plus a ``\\`` found at
once; ``\u2026`` is looked for only in a text with a backslash). A percent-encoded run is looked
at decoded by the callers (:mod:`._percent`): ``key%3Dghp_R4nd0m%E2%80%A6``.
"""

from __future__ import annotations

import re
import string
from typing import Final

from genai_trace_core.content._detectors import _ESCAPE_BEFORE  # "\\nghp_…" in JSON

_KEY_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_BEFORE: Final = _KEY_CHARS | {"]", "@", "."}
_REACH: Final = 300  # how far back from an ellipsis a key's head is looked for
# "...", "…", "[...]" (``textwrap.shorten``), "\u2026" (JSON written in ASCII; "\\u2026" twice
# escaped); a space on either side ("sk-proj-Q7vL ... 1234") is part of it.
_ELLIPSIS: Final = re.compile(r" ?(?:\[(?:\.\.\.|…)\]|\.\.\.|…|\\{1,2}u2026) ?")
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
# where the ellipsis starts (searched with ``endpos`` at the ellipsis); in a text with a
# backslash also right after an escape ("\nghp_…", "\u00e9ghp_…"), as the detectors do.
_KEY_HEAD: Final = "(?:" + "|".join(p for _, p in _PREFIXES) + r")[A-Za-z0-9_\-]+\Z"
_HEAD: Final = re.compile("(?<![A-Za-z])" + _KEY_HEAD)
_HEAD_ESCAPED: Final = re.compile(f"(?:(?<![A-Za-z])|{_ESCAPE_BEFORE})" + _KEY_HEAD)
_SECRET_MARKER: Final = re.compile(
    r"\[REDACTED:(?:" + "|".join(label for label, _ in _PREFIXES) + r"|bearer_token)\]\Z"
)
_WORD: Final = re.compile(r"[A-Z][a-z]+")  # a capitalised word
_CLASSES: Final = str.maketrans(
    dict.fromkeys(string.ascii_lowercase, "a")
    | dict.fromkeys(string.ascii_uppercase, "A")
    | dict.fromkeys(string.digits, "0")
    | dict.fromkeys("_-", "-")
)
_SAME_CLASS: Final = re.compile(r"(.)\1*")  # a run of characters of one class
# A tail alone: this long when a key character touches the ellipsis (pydantic cuts mid-word),
# longer after a space or punctuation ("{...s3Config", "from ...v2Models", "…Qwen2-7B").
_TAIL: Final = 12
_LOOSE_TAIL: Final = 16
_EMAIL_HEAD: Final = re.compile(r"(?<![\w.%+'-])[\w.%+-][\w.%+'-]{0,63}@[A-Za-z0-9.\-]{0,255}\Z")


def _label(head: str) -> str:
    # longest prefix first: "sk-ant-" is Anthropic's, "sk-" OpenAI's
    return next(label for label, prefix in _PREFIXES if _PREFIX[label].match(head))


def _email_head(text: str, low: int, start: int) -> re.Match[str] | None:
    at = text.rfind("@", low, start)
    return None if at < 0 else _EMAIL_HEAD.search(text, max(low, at - 64), start)


def _random(head: str) -> bool:
    """Whether a key's head cut at an ellipsis looks random: a digit or an upper-case letter
    after its prefix ("sk-proj-Q7vL...", "AKIAIOSF..."), unlike prose ("sk-learn...",
    "hf_hub...", "xai-Grok...")."""
    prefix = _PREFIX[_label(head)].match(head)
    return not _wordlike(head[prefix.end() if prefix else 0 :])


def _wordlike(run: str) -> bool:
    return run.islower() or _WORD.fullmatch(run) is not None


def _key_tail(run: str, least: int = _TAIL) -> bool:
    """Whether a run right after an ellipsis looks like the end of a random key: long enough,
    with digits and both cases mixed as in random text (at least a quarter of the letters upper
    case, the class changing at 4 in 10 neighbours, few ``-``/``_``), unlike names made of
    words ("Llama-2-7b-chat-hf", "s3Config", "Step2Final", "Qwen2-7B-Instruct")."""
    size = len(run)
    if size < least:
        return False
    classes = run.translate(_CLASSES)  # "aaA0-": the class of each character, in C
    upper, lower, digits = classes.count("A"), classes.count("a"), classes.count("0")
    if digits < 1 or lower < 2 or upper < 2 or upper * 4 < upper + lower:
        return False
    if (size - upper - lower - digits) * 8 > size:
        return False
    changes = len(_SAME_CLASS.findall(classes)) - 1
    return changes * 5 >= (size - 1) * 2


def mask_cut_keys(text: str, personal: bool = False) -> str:
    """``text`` with the pieces of keys cut at an ellipsis masked (module docstring);
    ``personal``: also emails cut after their ``@`` (the built-in redactors are on)."""
    if "..." not in text and "…" not in text and ("\\" not in text or "\\u2026" not in text):
        return text  # ("…" in an ASCII text, "\\" in any, are found at once: memchr)
    out: list[str] = []
    done = previous = 0
    heads = _HEAD_ESCAPED if "\\" in text else _HEAD
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
        run = tail.group() if tail is not None else ""
        dots = ellipsis.group()
        # the dots touch the run (a space after them starts another word); how long a tail
        # alone must be depends on what touches them on the left
        touching = dots[-1] != " "
        touched = dots[0] != " " and text[start - 1 : start] in _KEY_CHARS
        key_tail = touching and _key_tail(run, _TAIL if touched else _LOOSE_TAIL)
        if not touching and run.isalpha() and _wordlike(run):
            run = ""  # "ghp_R4nd0m ... thanks": the word after is not the key's rest
        after = end + len(run)
        if run and not touching:
            dots = dots[:-1]  # "[REDACTED:openai_key] ... thanks": one space stays
        head = heads.search(text, first, start)
        if head is not None and (_random(head.group()) or key_tail):
            marker = f"[REDACTED:{_label(head.group())}]"
            out += (text[done : head.start()], marker, dots)
        elif text[start - 1 : start] == "]" and _SECRET_MARKER.search(text, low, start):
            out += (text[done:start], dots)
        elif personal and (email := _email_head(text, low, start)) is not None:
            out += (text[done : email.start()], "[REDACTED:email]", ellipsis.group())
            after = end
        elif key_tail:
            out += (text[done:end], "[REDACTED:key_fragment]")
        else:
            continue
        done = after
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)
