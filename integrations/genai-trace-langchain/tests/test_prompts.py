from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
from langchain_core.runnables import RunnableLambda

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

PROMPT_KEYS = (semconv.GEN_AI_PROMPT_NAME, semconv.GEN_AI_PROMPT_VERSION)


def _prompt_attrs(otel: OTelHarness) -> list[tuple[str, dict[str, object]]]:
    """(span name, prompt attributes) for every span, in start order."""
    spans = sorted(otel.span_dicts(), key=lambda d: d["start"])
    return [
        (d["name"], {k: d["attributes"][k] for k in PROMPT_KEYS if k in d["attributes"]})
        for d in spans
    ]


def _hub_prompt() -> ChatPromptTemplate:
    """A template as ``hub.pull("acme/support-answer")`` returns it."""
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("user", "{question}")])
    prompt.metadata = {
        "lc_hub_owner": "acme",
        "lc_hub_repo": "support-answer",
        "lc_hub_commit_hash": "56489e79",
    }
    return prompt


def test_hub_prompt_name_and_commit_go_on_the_chat_span_it_feeds_only(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    chain = (_hub_prompt() | FakeChatOpenAI() | StrOutputParser()).with_config(run_name="qa")
    chain.invoke({"question": "Refund policy?"}, {"callbacks": [handler]})

    assert _prompt_attrs(otel) == [
        ("invoke_workflow qa", {}),
        ("ChatPromptTemplate", {}),
        (
            "chat gpt-4o-mini",
            {
                semconv.GEN_AI_PROMPT_NAME: "acme/support-answer",
                semconv.GEN_AI_PROMPT_VERSION: "56489e79",
            },
        ),
        ("StrOutputParser", {}),
    ]
    assert len(handler._prompts) == 0


def test_own_private_hub_prompt_is_named_by_repo_alone(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    prompt = _hub_prompt()
    prompt.metadata = {**(prompt.metadata or {}), "lc_hub_owner": "-"}
    (prompt | FakeChatOpenAI()).invoke({"question": "q"}, {"callbacks": [handler]})

    chat = next(attrs for name, attrs in _prompt_attrs(otel) if name.startswith("chat"))
    assert chat == {
        semconv.GEN_AI_PROMPT_NAME: "support-answer",
        semconv.GEN_AI_PROMPT_VERSION: "56489e79",
    }


def test_named_template_gives_a_name_and_an_optional_version_unnamed_gives_none(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    named = PromptTemplate.from_template("Summarise: {text}").with_config(run_name="summarise")
    versioned = ChatPromptTemplate.from_messages([("user", "{text}")])
    versioned.name = "rewrite"
    versioned.metadata = {"prompt_version": "3"}
    unnamed = ChatPromptTemplate.from_messages([("user", "{text}")])
    model = FakeChatOpenAI()
    for i, prompt in enumerate((named, versioned, unnamed)):
        (prompt | model).with_config(run_name=f"flow{i}").invoke(
            {"text": "x"}, {"callbacks": [handler]}
        )

    chats = [attrs for name, attrs in _prompt_attrs(otel) if name.startswith("chat")]
    assert chats == [
        {semconv.GEN_AI_PROMPT_NAME: "summarise"},
        {semconv.GEN_AI_PROMPT_NAME: "rewrite", semconv.GEN_AI_PROMPT_VERSION: "3"},
        {},
    ]


def test_prompt_is_taken_by_one_model_call_and_forgotten_when_no_model_follows(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI()
    twice = _hub_prompt() | model | RunnableLambda(lambda m: m.content) | model
    twice.with_config(run_name="twice").invoke({"question": "q"}, {"callbacks": [handler]})
    chats = [attrs for name, attrs in _prompt_attrs(otel) if name.startswith("chat")]
    assert [attrs.get(semconv.GEN_AI_PROMPT_NAME) for attrs in chats] == [
        "acme/support-answer",
        None,
    ]

    (_hub_prompt() | RunnableLambda(lambda v: v.to_string())).invoke(
        {"question": "q"}, {"callbacks": [handler]}
    )
    assert len(handler._prompts) == 0
