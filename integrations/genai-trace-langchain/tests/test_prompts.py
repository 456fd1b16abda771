from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

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


VAR = semconv.GEN_AI_PROMPT_VARIABLE_PREFIX


def _variable_attrs(otel: OTelHarness) -> list[tuple[str, dict[str, object]]]:
    """(span name, prompt name and variable attributes) for every span, in start order."""
    spans = sorted(otel.span_dicts(parse_json=False), key=lambda d: d["start"])
    return [
        (
            d["name"],
            {
                k: v
                for k, v in d["attributes"].items()
                if k.startswith(VAR) or k == semconv.GEN_AI_PROMPT_NAME
            },
        )
        for d in spans
    ]


def test_template_variables_go_on_the_chat_span_it_feeds_when_content_is_captured(
    otel: OTelHarness, make_handler: Any
) -> None:
    handler = make_handler(capture_mode="SPAN_ONLY", redact_builtin=True)
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You answer as {persona}."),
            MessagesPlaceholder("history", optional=True),
            ("user", "{question}"),
        ]
    )
    chain = (
        RunnablePassthrough.assign(persona=lambda _: "a librarian")
        | prompt
        | FakeChatOpenAI()
        | StrOutputParser()
    ).with_config(run_name="qa")
    chain.invoke(
        {
            "question": "Why? Mail me at bob@example.com",
            "history": [HumanMessage("earlier")],
            "not_a_variable": "left out",
        },
        {"callbacks": [handler]},
    )

    chat_attrs = {
        VAR + "question": "Why? Mail me at [REDACTED:email]",
        VAR + "persona": "a librarian",
        # a history has the input messages' shape (until 2026-12-07 the serialised messages)
        VAR + "history": '[{"role":"user","parts":[{"type":"text","content":"earlier"}]}]',
    }
    assert _variable_attrs(otel)[-3:] == [
        ("ChatPromptTemplate", {}),
        ("chat gpt-4o-mini", chat_attrs),
        ("StrOutputParser", {}),
    ]
    assert len(handler._prompts) == 0


def test_single_variable_template_invoked_with_a_bare_value_names_it(
    otel: OTelHarness, make_handler: Any
) -> None:
    handler = make_handler(capture_mode="SPAN_ONLY")
    prompt = PromptTemplate.from_template("Summarise: {text}").with_config(run_name="summarise")
    (prompt | FakeChatOpenAI()).invoke("the report", {"callbacks": [handler]})

    assert _variable_attrs(otel) == [
        ("invoke_workflow", {}),
        ("summarise", {}),
        ("chat gpt-4o-mini", {semconv.GEN_AI_PROMPT_NAME: "summarise", VAR + "text": "the report"}),
    ]


def test_template_variables_are_not_recorded_or_kept_without_content_capture(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    named = PromptTemplate.from_template("Summarise: {text}").with_config(run_name="summarise")
    unnamed = ChatPromptTemplate.from_messages([("user", "{text}")])
    seen: list[int] = []

    def pending(value: Any) -> Any:
        seen.append(len(handler._prompts))
        return value

    model = FakeChatOpenAI()
    for prompt in (named, unnamed):
        (prompt | RunnableLambda(pending) | model).invoke(
            {"text": "secret"}, {"callbacks": [handler]}
        )

    assert seen == [1, 0]  # the unnamed template is not even remembered
    chats = [attrs for name, attrs in _variable_attrs(otel) if name.startswith("chat")]
    assert chats == [{semconv.GEN_AI_PROMPT_NAME: "summarise"}, {}]
    assert all("secret" not in str(d["attributes"]) for d in otel.span_dicts())
