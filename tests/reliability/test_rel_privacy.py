"""Privacy end to end, through both integrations: content is off by default on every path, and
with capture and built-in redaction on, a corpus of personal data and secrets is masked in every
attribute and log record while look-alikes (dates, versions, order ids) are left alone.

Each integration runs the same paths: a RAG query, a streamed RAG query, an agent turn that calls
a tool (tool arguments and result), and a bare retrieval. The question, the indexed documents and
the tool arguments all carry the text under test. ``exported_text`` scans span names, attributes,
span event attributes, log record bodies and attributes, and metric attributes.
"""

from __future__ import annotations

from typing import Any

import pytest
from reliability_corpus import NEGATIVE, POSITIVE, all_positive, corpus_text
from reliability_frameworks import exported_text, llamaindex_instrumented

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.testing import OTelHarness

ANSWER = "The answer is forty-two."
QUESTION = "QSECRET-what-is-the-capital"
DOC = "DSECRET Paris is the capital of France."
TOOL_ARG = "TSECRET-argument"
TOOL_RESULT = "RSECRET-result"
DEFAULT_SECRETS = (QUESTION, DOC, "DSECRET", TOOL_ARG, TOOL_RESULT, ANSWER, "forty-two")
# LlamaIndex's agent workflows read pydantic's deprecated ``__fields__`` (not our code).
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
REDACTING = Settings(capture_mode=CaptureMode.SPAN_AND_EVENT, redact_builtin=True)


# --- the paths, LangChain ---------------------------------------------------------------------


def run_langchain(otel: OTelHarness, settings: Settings, question: str, doc: str, arg: str) -> None:
    from langchain_core.documents import Document
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough
    from langchain_core.tools import tool
    from langchain_core.vectorstores import InMemoryVectorStore

    from genai_trace_langchain import OpenTelemetryCallbackHandler
    from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(settings))
    config: Any = {"callbacks": [handler]}
    store = InMemoryVectorStore(DeterministicEmbeddings())
    store.add_documents([Document(doc, id="d1")])
    retriever = store.as_retriever(search_kwargs={"k": 1})
    fmt = RunnableLambda(lambda docs: "\n".join(d.page_content for d in docs))
    prompt = ChatPromptTemplate.from_messages([("system", "Context: {context}"), ("user", "{q}")])
    rag = (
        {"context": retriever | fmt, "q": RunnablePassthrough()}
        | prompt
        | FakeChatOpenAI(responses=[ANSWER])
        | StrOutputParser()
    ).with_config(run_name="rag")

    assert rag.invoke(question, config=config) == ANSWER
    assert "".join(rag.stream(question, config=config)) == ANSWER
    assert [d.page_content for d in retriever.invoke(question, config=config)] == [doc]

    @tool
    def lookup(text: str) -> str:
        """Look the text up."""
        return TOOL_RESULT

    call = {"name": "lookup", "args": {"text": arg}, "id": "call_1", "type": "tool_call"}
    model = FakeChatOpenAI(responses=[AIMessage("", tool_calls=[call]), ANSWER]).bind_tools(
        [lookup]
    )

    def agent(q: str) -> str:
        history: list[Any] = [HumanMessage(q)]
        first = model.invoke(history)
        history += [first, lookup.invoke(first.tool_calls[0])]
        return str(model.invoke(history).content)

    assert RunnableLambda(agent).with_config(run_name="agent").invoke(question, config) == ANSWER
    assert handler.telemetry.open_count() == 0
    names = {s.name for s in otel.spans()}
    assert {"invoke_workflow rag", "execute_tool lookup", "chat gpt-4o-mini"} <= names


# --- the paths, LlamaIndex --------------------------------------------------------------------


async def run_llamaindex(
    otel: OTelHarness, settings: Settings, question: str, doc: str, arg: str
) -> None:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    from genai_trace_llamaindex.testing import DeterministicLLM

    def lookup(text: str) -> str:
        """Look the text up."""
        return TOOL_RESULT

    with llamaindex_instrumented(otel, settings) as instrumentor:
        index = VectorStoreIndex.from_documents([Document(text=doc, id_="d1")])
        index.set_index_id("capitals")
        llm = DeterministicLLM(answer=ANSWER, tool_calls=[("lookup", {"text": arg})])
        answer = await index.as_query_engine(llm=llm, similarity_top_k=1).aquery(question)
        assert str(answer) == ANSWER
        streaming = index.as_query_engine(llm=llm, similarity_top_k=1, streaming=True)
        response = await streaming.aquery(question)
        assert "".join([t async for t in response.async_response_gen()]) == ANSWER
        nodes = await index.as_retriever(similarity_top_k=1).aretrieve(question)
        assert [n.node.get_content() for n in nodes] == [doc]
        agent = FunctionAgent(tools=[FunctionTool.from_defaults(fn=lookup)], llm=llm)
        result = await agent.run(question)
        assert TOOL_RESULT in str(result)
        (span_handler, _) = instrumentor._handlers
        assert span_handler.bridge.telemetry.open_count() == 0
    names = {s.name for s in otel.spans()}
    assert {"RetrieverQueryEngine.query", "execute_tool lookup", "chat gpt-4o-mini"} <= names


async def run(name: str, otel: OTelHarness, settings: Settings, *texts: str) -> None:
    if name == "langchain":
        run_langchain(otel, settings, *texts)
    else:
        await run_llamaindex(otel, settings, *texts)


INTEGRATIONS = ["langchain", "llamaindex"]


# --- content off by default -------------------------------------------------------------------


@pytest.mark.parametrize("integration", INTEGRATIONS)
async def test_no_content_anywhere_with_default_settings_on_every_path(
    otel: OTelHarness, integration: str
) -> None:
    await run(integration, otel, Settings(), QUESTION, DOC, TOOL_ARG)

    text = exported_text(otel)
    assert [s for s in DEFAULT_SECRETS if s in text] == []
    assert otel.logs() == []  # no content events at all
    assert otel.metrics()  # metrics were recorded, and scanned


# --- redaction corpus -------------------------------------------------------------------------


@pytest.mark.parametrize("integration", INTEGRATIONS)
async def test_redaction_masks_the_whole_corpus_everywhere_and_spares_look_alikes(
    otel: OTelHarness, integration: str
) -> None:
    await run(
        integration,
        otel,
        REDACTING,
        corpus_text(QUESTION),
        corpus_text(DOC),
        corpus_text(TOOL_ARG),
    )

    text = exported_text(otel)
    # the content was captured (spans and log records), so the scan means something
    for marker in (QUESTION, "DSECRET", TOOL_ARG, TOOL_RESULT):
        assert marker in text, marker
    assert otel.logs()
    leaked = [v for v in all_positive() if v in text or v.replace(" ", "") in text]
    assert leaked == []
    labels = {"email", "phone", "card", "iban", "ip", "openai_key", "aws_key", "jwt"}
    assert [k for k in sorted(labels) if f"[REDACTED:{k}]" not in text] == []
    assert [v for v in NEGATIVE if v not in text] == []  # look-alikes are not masked
    assert set(POSITIVE) == {"email", "phone", "card", "iban", "ip", "key"}
