"""A LlamaIndex ``FunctionAgent`` with two tools, traced with genai-trace-llamaindex.

    python examples/llamaindex_agent.py               # offline: a scripted gpt-4o-mini look-alike
    OPENAI_API_KEY=sk-... python examples/llamaindex_agent.py --real

The trace is ``invoke_agent shop-assistant`` > ``chat gpt-4o-mini`` > ``execute_tool ...`` >
``chat gpt-4o-mini``, with tokens, cost and tool call ids. ``configure()`` prints it on stderr;
the answer and the run's cost summary go to stdout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from _trace_summary import collect, example_args, print_cost_summary
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool

from genai_trace_core import configure
from genai_trace_llamaindex import LlamaIndexInstrumentor

PRICES = {"standard": 4.99, "express": 14.99}


def shipping_price(method: str) -> float:
    """The price in USD of a shipping method: "standard" or "express"."""
    return PRICES[method]


def order_status(order_id: str) -> str:
    """The delivery status of an order."""
    return f"Order {order_id} is out for delivery."


def make_llm(real: bool) -> Any:
    if real:
        from llama_index.llms.openai import OpenAI

        return OpenAI(model="gpt-4o-mini")
    from genai_trace_llamaindex.testing import DeterministicLLM

    return DeterministicLLM(tool_calls=[("shipping_price", {"method": "express"})])


def build_agent(llm: Any) -> FunctionAgent:
    """The shop assistant with its two tools, on ``llm``."""
    return FunctionAgent(
        name="shop-assistant",
        description="Answers shipping questions.",
        system_prompt="You help customers with orders and shipping.",
        tools=[
            FunctionTool.from_defaults(shipping_price),
            FunctionTool.from_defaults(order_status),
        ],
        llm=llm,
    )


async def ask(question: str, real: bool) -> str:
    return str(await build_agent(make_llm(real)).run(question))


def main(argv: Sequence[str] | None = None) -> int:
    parsed = example_args(__doc__, argv, ["How much does express shipping cost?"])
    if parsed is None:
        return 2
    questions, real = parsed
    providers = configure(service_name="llamaindex-agent-example")
    collector = collect(providers)
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        logger_provider=providers.logger_provider,
    )
    try:
        for question in questions:
            print(f"Q: {question}")
            print(f"A: {asyncio.run(ask(question, real))}")
        providers.tracer_provider.force_flush()
        print_cost_summary(collector)
    finally:
        instrumentor.uninstrument()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
