"""A redactor hook that fails drops the text (``[REDACTION FAILED]``) and never exports it
unredacted: not on the span, not in the log event, and not in the ``genai_trace`` DEBUG log line
that says the hook failed. Hooks (an NER model, Presidio) raise with the text they were given in
the message; that line used to carry the traceback with the message, so the text the hook was to
redact reached the log, and from there an OTLP log record when Python logging is exported too.
"""

from __future__ import annotations

import logging
import warnings

from inline_snapshot import snapshot
from reliability_support import captured_logs, otlp_bytes, with_ledger

from genai_trace_core import CaptureMode, Settings, semconv
from genai_trace_core.testing import OTelHarness

PATIENT = "PATIENTMARK Jane Roe, diagnosis: hypertension"


def ner_redactor(text: str) -> str:
    """A user's hook that fails on some texts, quoting them as such hooks do."""
    if "PATIENTMARK" in text:
        raise ValueError(f"NER model failed on: {text}")
    return text


def _python_logs_exported(otel: OTelHarness) -> logging.Handler:
    from opentelemetry.sdk._logs import LoggingHandler

    with warnings.catch_warnings():  # deprecated in the SDK for instrumentation-logging's
        warnings.simplefilter("ignore", DeprecationWarning)
        return LoggingHandler(level=logging.DEBUG, logger_provider=otel.logger_provider)


def test_failing_redactor_never_logs_the_text_it_was_given(otel: OTelHarness) -> None:
    from langchain_core.prompts import ChatPromptTemplate

    from genai_trace_langchain import OpenTelemetryCallbackHandler
    from genai_trace_langchain.testing import FakeChatOpenAI

    ledger = with_ledger(otel)
    settings = Settings(capture_mode=CaptureMode.SPAN_AND_EVENT, redactor=ner_redactor)
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(settings))
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | FakeChatOpenAI(
        responses=["Noted."]
    )
    exporter = _python_logs_exported(otel)
    logging.getLogger("genai_trace").addHandler(exporter)
    try:
        with captured_logs("genai_trace") as records:
            answer = chain.invoke({"q": PATIENT}, config={"callbacks": [handler]})
    finally:
        logging.getLogger("genai_trace").removeHandler(exporter)

    assert answer.content == "Noted."
    assert ledger.open_spans() == []
    keys = (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES)
    assert otel.tree(attributes=keys) == snapshot(
        [
            {
                "name": "invoke_workflow",
                "kind": "INTERNAL",
                "status": "UNSET",
                "attributes": {},
                "children": [
                    {
                        "name": "ChatPromptTemplate",
                        "kind": "INTERNAL",
                        "status": "UNSET",
                        "attributes": {},
                        "children": [],
                    },
                    {
                        "name": "chat gpt-4o-mini",
                        "kind": "CLIENT",
                        "status": "UNSET",
                        "attributes": {
                            "gen_ai.input.messages": [
                                {
                                    "role": "user",
                                    "parts": [{"type": "text", "content": "[REDACTION FAILED]"}],
                                }
                            ],
                            "gen_ai.output.messages": [
                                {
                                    "role": "assistant",
                                    "parts": [{"type": "text", "content": "Noted."}],
                                    "finish_reason": "stop",
                                }
                            ],
                        },
                        "children": [],
                    },
                ],
            }
        ]
    )
    failures = [r for r in records if "redactor hook raised" in r.getMessage()]
    assert len(failures) == 1
    line = logging.Formatter().format(failures[0])
    assert "builtins.ValueError (message not logged), raised at:" in line
    assert "in ner_redactor" in line  # the frames are kept: the hook's author can find it
    assert "PATIENTMARK" not in line and "Jane Roe" not in line
    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert b"redactor hook raised" in exported  # Python logging is exported: the line is there
    assert b"PATIENTMARK" not in exported and b"Jane Roe" not in exported
    assert b"[REDACTION FAILED]" in exported
