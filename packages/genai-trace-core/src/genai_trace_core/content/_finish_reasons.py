"""Per-message finish reasons on output messages.

The conventions' output-messages schema has a ``finish_reason`` per message (the released
schemas require it; Arize Phoenix drops output messages without it). Integrations usually know
the finish reasons per choice only: core fills each message's from the outcome, by index.
"""

from __future__ import annotations

from typing import Any

from genai_trace_core.records import Message, Outcome


def with_finish_reasons(outcome: Outcome, messages: Any) -> Any:
    """``messages`` (resolved), each with its choice's finish reason where it has none."""
    reasons = outcome.finish_reasons
    if not reasons or not isinstance(messages, (list, tuple)):
        return messages
    for i, m in enumerate(messages):
        if isinstance(m, Message) and m.finish_reason is None:
            m.finish_reason = str(reasons[min(i, len(reasons) - 1)])
    return messages
