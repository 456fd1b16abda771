"""The LangChain examples, end to end: each runs offline in a subprocess (fresh interpreter, tmp
cwd), exits 0, prints the expected trace trees on stderr, the answers and a cost summary on stdout,
and writes the same spans to ``./.genai-trace/traces.jsonl``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from genai_trace_core import Usage, compute_cost, semconv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"

pytest.importorskip("langchain_core")
pytest.importorskip("opentelemetry.sdk")

RAG_TRACE = [
    "invoke_workflow support_rag",
    "RunnableParallel<context,question>",
    "RunnableSequence",
    "retrieval",
    "embeddings text-embedding-3-small",
    "format_docs",
    "RunnablePassthrough",
    "support-answer",
    "chat gpt-4o-mini",
    "StrOutputParser",
]
# RunnableParallel runs its two branches on a thread pool, so the passthrough may start (and be
# printed) before the retrieval branch: both are the same tree.
RAG_TRACES = (RAG_TRACE, [*RAG_TRACE[:2], "RunnablePassthrough", *RAG_TRACE[2:6], *RAG_TRACE[7:]])


@dataclass
class Run:
    stdout: str
    stderr: str
    spans: list[dict[str, Any]]  # the JSONL records, in start order

    def traces(self) -> list[list[str]]:
        """Span names of each printed tree, in print order (tree order within a trace)."""
        out: list[list[str]] = []
        for line in self.stderr.splitlines():
            if line.startswith("trace "):
                out.append([])
            elif out and line and (not line.startswith(" ") or "── " in line):  # not totals
                label = line.lstrip("│├└─ ")
                out[-1].append(re.split(r"\s{2,}", label)[0])
        return out

    def tree_usage(self) -> list[tuple[int, int]]:
        """(input, output) tokens printed on each chat line of the trees, in print order."""
        return [
            (int(a.replace(",", "")), int(b.replace(",", "")))
            for a, b in re.findall(r"chat \S+.*?in ([\d,]+) out ([\d,]+)", self.stderr)
        ]

    def summary(self) -> dict[str, tuple[int, int, int, float]]:
        """The stdout cost summary: model -> (calls, input, output, cost)."""
        rows: dict[str, tuple[int, int, int, float]] = {}
        pattern = re.compile(r"^  (\S+)\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+\$([\d.]+)$")
        for line in self.stdout.splitlines():
            m = pattern.match(line)
            if m and m.group(1) != "total":
                calls, tokens_in, _, tokens_out = (int(g.replace(",", "")) for g in m.groups()[1:5])
                rows[m.group(1)] = (calls, tokens_in, tokens_out, float(m.group(6)))
        return rows


def _run(script: str, tmp_path: Path) -> Run:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "GENAI_TRACE_")) and k != "OPENAI_API_KEY"
    }
    env.update(NO_COLOR="1", PYTHONHASHSEED="0")
    if "TIKTOKEN_CACHE_DIR" not in env and TIKTOKEN_CACHE.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(TIKTOKEN_CACHE)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    jsonl = tmp_path / ".genai-trace" / "traces.jsonl"
    spans = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    spans.sort(key=lambda s: s["start_time_unix_nano"])
    return Run(proc.stdout, proc.stderr, spans)


def _chat_spans(run: Run) -> list[dict[str, Any]]:
    return [s for s in run.spans if s["attributes"].get(semconv.GEN_AI_OPERATION_NAME) == "chat"]


def _check_costs_and_summary(run: Run) -> None:
    """Every model span's cost is the price of its own usage; the summary adds them up."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for span in run.spans:
        a = span["attributes"]
        if a.get(semconv.GEN_AI_OPERATION_NAME) not in ("chat", "embeddings"):
            continue
        model = a.get(semconv.GEN_AI_RESPONSE_MODEL) or a[semconv.GEN_AI_REQUEST_MODEL]
        usage = Usage(
            # an offline estimate (embeddings) is under our name unless the user opts in
            input_tokens=a.get(
                semconv.GEN_AI_USAGE_INPUT_TOKENS, a.get(semconv.USAGE_ESTIMATED_INPUT_TOKENS)
            ),
            output_tokens=a.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
            cache_read_input_tokens=a.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
        )
        cost = compute_cost(model, a[semconv.GEN_AI_PROVIDER_NAME], usage)
        assert cost is not None and cost.total_usd > 0
        assert a[semconv.COST_USD] == pytest.approx(cost.total_usd)
        row = totals[model]
        row[0] += 1
        row[1] += usage.input_tokens or 0
        row[2] += usage.output_tokens or 0
        row[3] += cost.total_usd
    summary = run.summary()
    assert set(summary) == set(totals)
    for model, (calls, tokens_in, tokens_out, usd) in summary.items():
        expected = totals[model]
        assert (calls, tokens_in, tokens_out) == (expected[0], expected[1], expected[2])
        assert usd == pytest.approx(expected[3], rel=1e-3)  # printed with 8 decimals at most


def test_langchain_rag_example_prints_one_tree_per_question_with_tokens_and_cost(
    tmp_path: Path,
) -> None:
    run = _run("langchain_rag.py", tmp_path)

    indexing, *questions = run.traces()
    assert indexing == ["embeddings text-embedding-3-small"]
    assert len(questions) == 3
    assert [q for q in questions if q not in RAG_TRACES] == []
    assert "30 days of delivery" in run.stdout
    assert "8am to 8pm CET" in run.stdout
    assert "A (streamed): Express shipping takes 1 to 2 business days and costs 9 EUR." in (
        run.stdout
    )
    chats = _chat_spans(run)
    assert run.tree_usage() == [
        (
            c["attributes"][semconv.GEN_AI_USAGE_INPUT_TOKENS],
            c["attributes"][semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
        )
        for c in chats
    ]
    assert all(c["attributes"][semconv.GEN_AI_PROMPT_NAME] == "support-answer" for c in chats)
    assert all(c["attributes"][semconv.GEN_AI_CONVERSATION_ID] == "example-session" for c in chats)
    streamed = chats[-1]["attributes"]
    assert streamed[semconv.GEN_AI_REQUEST_STREAM] is True
    assert streamed[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert all(semconv.GEN_AI_REQUEST_STREAM not in c["attributes"] for c in chats[:-1])
    retrievals = [s for s in run.spans if s["name"] == "retrieval"]
    assert [r["attributes"][semconv.GEN_AI_RETRIEVAL_TOP_K] for r in retrievals] == [2, 2, 2]
    _check_costs_and_summary(run)
    assert "Cost summary (4 traces, 31 spans)" in run.stdout


def _tool_calls_in_name_order(names: list[str]) -> list[str]:
    """A tree's span names with each run of sibling ``execute_tool`` spans in name order:
    LangGraph's ToolNode runs one message's tool calls on a thread pool, in either order."""
    out: list[str] = []
    run: list[str] = []
    for name in [*names, ""]:
        if name.startswith("execute_tool "):
            run.append(name)
            continue
        out += sorted(run)
        run = []
        if name:
            out.append(name)
    return out


def _agent_trace_ids(run: Run) -> list[str]:
    return [s["trace_id"] for s in run.spans if s["name"] == "invoke_agent travel_agent"]


def test_langgraph_agent_example_traces_each_question_as_one_agent_with_tool_calls(
    tmp_path: Path,
) -> None:
    run = _run("langgraph_agent.py", tmp_path)

    model_turn = ["agent", "chat gpt-4o-mini", "tools_condition"]
    assert [_tool_calls_in_name_order(t) for t in run.traces()] == [
        [
            "invoke_agent travel_agent",
            *model_turn,
            "tools",
            "execute_tool convert_currency",
            "execute_tool get_weather",
            *model_turn,
        ],
        [
            "invoke_agent travel_agent",
            *model_turn,
            "tools",
            "execute_tool get_weather",
            *model_turn,
        ],
    ]
    assert "A: Here is what I found: 22°C and sunny; 129.60 USD." in run.stdout
    assert "A: Here is what I found: -3°C with light snow." in run.stdout
    chats = _chat_spans(run)
    assert [c["attributes"][semconv.GEN_AI_RESPONSE_FINISH_REASONS] for c in chats] == [
        ["tool_calls"],
        ["stop"],
        ["tool_calls"],
        ["stop"],
    ]
    assert run.tree_usage() == [
        (
            c["attributes"][semconv.GEN_AI_USAGE_INPUT_TOKENS],
            c["attributes"][semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
        )
        for c in chats
    ]
    tools = [
        (s["name"], s["attributes"][semconv.GEN_AI_TOOL_CALL_ID], s["trace_id"])
        for s in run.spans
        if s["name"].startswith("execute_tool")
    ]
    first, second = _agent_trace_ids(run)
    assert sorted((name, call) for name, call, trace in tools if trace == first) == [
        ("execute_tool convert_currency", "call_2"),
        ("execute_tool get_weather", "call_1"),
    ]
    assert [(name, call) for name, call, trace in tools if trace == second] == [
        ("execute_tool get_weather", "call_1")
    ]
    agents = [s["attributes"] for s in run.spans if s["name"] == "invoke_agent travel_agent"]
    assert [a[semconv.GEN_AI_CONVERSATION_ID] for a in agents] == [
        "example-thread-0",
        "example-thread-1",
    ]
    _check_costs_and_summary(run)
