"""A tool-calling LangGraph agent with two tools, traced with genai-trace-langchain.

    python examples/langgraph_agent.py                # offline: deterministic model, no key
    python examples/langgraph_agent.py "Weather in Oslo?"
    OPENAI_API_KEY=sk-... python examples/langgraph_agent.py --real

The graph is the classic agent loop: an ``agent`` node calls the chat model with the tools bound,
``tools_condition`` routes tool calls to a ``ToolNode``, whose results go back to the model until
it answers. Compiled with ``name="travel_agent"``, each question is one ``invoke_agent`` trace:
chat spans (tokens, cost), ``execute_tool`` spans (call ids) and the graph nodes in between.
``configure()`` prints every trace as a tree on stderr and appends its spans to
``./.genai-trace/traces.jsonl``; answers and the run's cost summary go to stdout.

Offline (the default), the model is ``genai_trace_langchain.testing.FakeChatOpenAI`` with a scripted
policy: it calls the tools a question needs (in parallel), then answers from their results, and
reports OpenAI-style usage for ``gpt-4o-mini``. With ``--real`` and ``OPENAI_API_KEY`` set it uses
langchain-openai's ``ChatOpenAI``; that path is present but not run by the test suite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from _trace_summary import collect, example_args, print_cost_summary
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from genai_trace_core import configure, count_tokens, preload_prices
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import FakeChatOpenAI

CHAT_MODEL = "gpt-4o-mini"
QUESTIONS = (
    "What's the weather in Lisbon, and how much is 120 EUR in USD?",
    "Is it cold in Oslo today?",
)
WEATHER = {
    "lisbon": "22°C and sunny",
    "oslo": "-3°C with light snow",
    "paris": "14°C and cloudy",
    "tokyo": "18°C and clear",
}
RATES = {"EUR": 1.0, "USD": 1.08, "GBP": 0.85, "JPY": 162.0, "NOK": 11.6}
_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Z]{3})\s+(?:in|to)\s+([A-Z]{3})")


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return WEATHER.get(city.strip().lower(), "no report for that city")


@tool
def convert_currency(amount: float, from_currency: str, to_currency: str) -> str:
    """Convert an amount between currencies (ISO codes such as EUR, USD)."""
    src, dst = RATES.get(from_currency.upper()), RATES.get(to_currency.upper())
    if src is None or dst is None:
        return "unknown currency"
    return f"{amount * dst / src:.2f} {to_currency.upper()}"


TOOLS = [get_weather, convert_currency]


def scripted_policy(messages: Sequence[BaseMessage]) -> AIMessage | str:
    """The offline model: first the tool calls the question needs, then an answer from them."""
    last_user = max(i for i, m in enumerate(messages) if m.type == "human")
    question = str(messages[last_user].content)
    results = [m for m in messages[last_user + 1 :] if m.type == "tool"]
    if results:
        return "Here is what I found: " + "; ".join(str(m.content) for m in results) + "."
    calls: list[dict[str, Any]] = []
    for city in WEATHER:
        if city in question.lower():
            calls.append({"name": "get_weather", "args": {"city": city.title()}})
    for amount, src, dst in _MONEY.findall(question):
        calls.append(
            {
                "name": "convert_currency",
                "args": {"amount": float(amount), "from_currency": src, "to_currency": dst},
            }
        )
    if not calls:
        return "I can tell you the weather in a city or convert an amount between currencies."
    for i, call in enumerate(calls, start=1):
        call["id"] = f"call_{i}"
    return AIMessage("", tool_calls=calls)


def chat_model(real: bool) -> BaseChatModel:
    if real:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=CHAT_MODEL, temperature=0)
    return FakeChatOpenAI(model=CHAT_MODEL, answer_fn=scripted_policy, delay_s=0.005)


def build_agent(model: BaseChatModel) -> Any:
    bound = model.bind_tools(TOOLS)
    system = SystemMessage("You are a travel assistant. Use the tools; answer in one sentence.")

    def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [bound.invoke([system, *state["messages"]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(TOOLS))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(name="travel_agent")


def main(argv: Sequence[str] | None = None) -> int:
    parsed = example_args(__doc__, argv, QUESTIONS)
    if parsed is None:
        return 2
    questions, real = parsed
    count_tokens(["warm up"], CHAT_MODEL)  # tokenizer and prices load before tracing starts
    preload_prices()

    providers = configure(service_name="langgraph-agent-example")
    collector = collect(providers)
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        logger_provider=providers.logger_provider,
    )
    try:
        agent = build_agent(chat_model(real))
        for i, question in enumerate(questions):
            config: Any = {
                "configurable": {"thread_id": f"example-thread-{i}"},  # gen_ai.conversation.id
                "metadata": {"user_id": "example-user"},
            }
            result = agent.invoke({"messages": [("user", question)]}, config=config)
            print(f"Q: {question}\nA: {result['messages'][-1].content}\n")
    finally:
        instrumentor.uninstrument()
        providers.force_flush()
    print_cost_summary(collector)
    if providers.jsonl_path is not None:
        print(f"\nSpans appended to {providers.jsonl_path} (read them: genai-trace view FILE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
