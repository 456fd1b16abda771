"""The seven benchmark workloads, built once per process and invoked many times.

Each builder returns a :class:`Workload` whose ``run`` performs one invocation (and ``arun`` the
async equivalent, used by the memory mode). Frameworks are imported lazily so a process only pays
for the one it measures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

FRAMEWORK = {
    "lc_rag": "langchain",
    "lc_stream": "langchain",
    "lc_tools": "langchain",
    "lg_agent": "langchain",
    "li_query": "llamaindex",
    "li_stream": "llamaindex",
    "li_agent": "llamaindex",
}
WORKLOADS = tuple(FRAMEWORK)
QUESTION = "What is the capital of France?"
_DOCS = [
    f"Document {i}: "
    + ("Paris is the capital of France. " if i % 5 == 0 else "Rivers flow into the sea. ")
    * (6 + i % 4)
    for i in range(20)
]


@dataclass
class Workload:
    name: str
    run: Callable[[], Any]
    arun: Callable[[], Awaitable[Any]] | None = None
    close: Callable[[], None] = lambda: None


def build(name: str) -> Workload:
    return _BUILDERS[name]()


# --- LangChain ------------------------------------------------------------------------------


def _lc_chain() -> Any:
    from langchain_core.documents import Document
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_core.vectorstores import InMemoryVectorStore

    from tests.benchmarks._fakes import FakeChatOpenAI

    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=256))
    store.add_documents([Document(page_content=t, metadata={"i": i}) for i, t in enumerate(_DOCS)])
    retriever = store.as_retriever(search_kwargs={"k": 4})
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer using only this context:\n{context}"),
            ("human", "{question}"),
        ]
    )

    def format_docs(docs: list[Document]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    return (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | FakeChatOpenAI()
        | StrOutputParser()
    )


def _lc_rag() -> Workload:
    chain = _lc_chain()
    return Workload(
        "lc_rag", run=lambda: chain.invoke(QUESTION), arun=lambda: chain.ainvoke(QUESTION)
    )


def _lc_stream() -> Workload:
    chain = _lc_chain()

    def run() -> str:
        return "".join(chain.stream(QUESTION))

    async def arun() -> str:
        return "".join([c async for c in chain.astream(QUESTION)])

    return Workload("lc_stream", run=run, arun=arun)


def _lc_tool_defs() -> list[Any]:
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"21 degrees and sunny in {city}"

    @tool
    def get_time(city: str) -> str:
        """Local time in a city."""
        return f"14:05 in {city}"

    return [get_weather, get_time]


def _lc_tools() -> Workload:
    from langchain_core.messages import BaseMessage, HumanMessage
    from langchain_core.runnables import RunnableLambda

    from tests.benchmarks._fakes import FakeChatOpenAI

    tools = _lc_tool_defs()
    by_name = {t.name: t for t in tools}
    model = FakeChatOpenAI().bind_tools(tools)

    def weather_agent(question: str) -> str:
        messages: list[BaseMessage] = [HumanMessage(question)]
        reply = model.invoke(messages)
        messages.append(reply)
        for call in reply.tool_calls:
            messages.append(by_name[call["name"]].invoke(call))
        return str(model.invoke(messages).content)

    async def aweather_agent(question: str) -> str:
        messages: list[BaseMessage] = [HumanMessage(question)]
        reply = await model.ainvoke(messages)
        messages.append(reply)
        for call in reply.tool_calls:
            messages.append(await by_name[call["name"]].ainvoke(call))
        return str((await model.ainvoke(messages)).content)

    agent = RunnableLambda(weather_agent, afunc=aweather_agent, name="weather_agent")
    q = "What's the weather and time in Paris?"
    return Workload("lc_tools", run=lambda: agent.invoke(q), arun=lambda: agent.ainvoke(q))


def _lg_agent() -> Workload:
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    from tests.benchmarks._fakes import FakeChatOpenAI

    tools = _lc_tool_defs()
    model = FakeChatOpenAI().bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    async def aagent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    def graph(node: Any) -> Any:
        g = StateGraph(MessagesState)
        g.add_node("agent", node)
        g.add_node("tools", ToolNode(tools))
        g.add_edge(START, "agent")
        g.add_conditional_edges("agent", tools_condition)
        g.add_edge("tools", "agent")
        return g.compile(name="weather_graph")

    sync_graph, async_graph = graph(agent), graph(aagent)
    inp = {"messages": [("user", "What's the weather and time in Paris?")]}
    return Workload(
        "lg_agent", run=lambda: sync_graph.invoke(inp), arun=lambda: async_graph.ainvoke(inp)
    )


# --- LlamaIndex -----------------------------------------------------------------------------


def _li_engine(streaming: bool) -> Any:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding

    from tests.benchmarks._fakes import FakeOpenAILLM

    embed = MockEmbedding(embed_dim=256)
    index = VectorStoreIndex.from_documents(
        [Document(text=t, doc_id=f"doc-{i}") for i, t in enumerate(_DOCS)], embed_model=embed
    )
    return index.as_query_engine(similarity_top_k=4, llm=FakeOpenAILLM(), streaming=streaming)


def _li_query() -> Workload:
    engine = _li_engine(streaming=False)
    return Workload(
        "li_query",
        run=lambda: str(engine.query(QUESTION)),
        arun=lambda: engine.aquery(QUESTION),
    )


def _li_stream() -> Workload:
    engine = _li_engine(streaming=True)

    def run() -> str:
        return "".join(engine.query(QUESTION).response_gen)

    async def arun() -> str:
        resp = await engine.aquery(QUESTION)
        return "".join([t async for t in resp.async_response_gen()])

    return Workload("li_stream", run=run, arun=arun)


def _li_agent() -> Workload:
    from llama_index.core.agent.workflow import ReActAgent
    from llama_index.core.tools import FunctionTool

    from tests.benchmarks._fakes import FakeOpenAILLM

    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"21 degrees and sunny in {city}"

    agent = ReActAgent(
        name="weather_agent",
        tools=[FunctionTool.from_defaults(get_weather)],
        llm=FakeOpenAILLM(),
        streaming=False,
    )
    loop = asyncio.new_event_loop()
    q = "What's the weather in Paris?"

    async def arun() -> str:
        return str(await agent.run(user_msg=q))

    return Workload(
        "li_agent", run=lambda: loop.run_until_complete(arun()), arun=arun, close=loop.close
    )


_BUILDERS: dict[str, Callable[[], Workload]] = {
    "lc_rag": _lc_rag,
    "lc_stream": _lc_stream,
    "lc_tools": _lc_tools,
    "lg_agent": _lg_agent,
    "li_query": _li_query,
    "li_stream": _li_stream,
    "li_agent": _li_agent,
}
