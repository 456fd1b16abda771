"""Read the examples' traces back from a local Arize Phoenix (``nox -s phoenix``).

    python tests/e2e/phoenix_readback.py http://127.0.0.1:6006 sent.jsonl

``sent.jsonl`` is the JSONL file the examples wrote next to their OTLP export: every span in it
must be in Phoenix (REST API ``/v1/projects/default/spans``), with the same parent, and the model
spans with their token counts, cost and (content capture on) output messages, both as sent and
as Phoenix shows them (its ``llm.*`` model, mapped from ``gen_ai.*``). Exit 1 with the
differences otherwise. Standard library only.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def phoenix_spans(base: str) -> dict[str, dict[str, Any]]:
    spans: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        url = f"{base}/v1/projects/default/spans?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.load(response)
        for span in page["data"]:
            spans[span["context"]["span_id"]] = span
        cursor = page.get("next_cursor")
        if not cursor:
            return spans


def check(sent: list[dict[str, Any]], got: dict[str, dict[str, Any]]) -> list[str]:
    problems = [
        f"span {s['name']} ({s['span_id']}) missing" for s in sent if s["span_id"] not in got
    ]
    for s in sent:
        span = got.get(s["span_id"])
        if span is None:
            continue
        if span["parent_id"] != s["parent_id"] or span["context"]["trace_id"] != s["trace_id"]:
            problems.append(f"{s['name']}: parent {span['parent_id']} != {s['parent_id']}")
        attrs = span["attributes"]
        if s["attributes"].get("gen_ai.operation.name") == "chat":
            for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"):
                if attrs.get(key) != s["attributes"][key] or not attrs.get(key):
                    problems.append(f"{s['name']}: {key} {attrs.get(key)}")
            if not attrs.get("genai_trace.cost.usd"):
                problems.append(f"{s['name']}: no cost")
            if "gen_ai.output.messages" not in attrs:
                problems.append(f"{s['name']}: no output messages")
            elif not attrs.get("llm.output_messages.0.message.role"):
                # what Phoenix shows: its own model, mapped from gen_ai.output.messages (released
                # Phoenix versions drop a message without finish_reason)
                problems.append(f"{s['name']}: Phoenix shows no output message")
            if attrs.get("llm.token_count.prompt") != s["attributes"]["gen_ai.usage.input_tokens"]:
                problems.append(f"{s['name']}: Phoenix shows {attrs.get('llm.token_count.prompt')}")
    kinds = {got[s["span_id"]]["span_kind"] for s in sent if s["span_id"] in got}
    missing_kinds = {"LLM", "EMBEDDING", "RETRIEVER"} - kinds
    if missing_kinds:
        problems.append(f"Phoenix shows no {sorted(missing_kinds)} span (kinds: {sorted(kinds)})")
    return problems


def main(argv: list[str]) -> int:
    base, sent_file = argv[0].rstrip("/"), Path(argv[1])
    sent = [json.loads(line) for line in sent_file.read_text().splitlines() if line.strip()]
    chats = [s for s in sent if s["attributes"].get("gen_ai.operation.name") == "chat"]
    if not sent or not chats:
        print(f"phoenix: nothing was sent ({len(sent)} spans, {len(chats)} chat spans)")
        return 1
    deadline = time.monotonic() + 60  # Phoenix ingests in the background
    while True:
        got = phoenix_spans(base)
        problems = check(sent, got)
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(1)
    traces = len({s["trace_id"] for s in sent})
    if problems:
        print("phoenix: " + "\n  ".join([f"{len(problems)} problem(s):", *problems[:20]]))
        return 1
    print(
        f"phoenix: all {len(sent)} spans of {traces} traces read back with their parents; "
        f"{len(chats)} chat spans with tokens, cost and output messages"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
