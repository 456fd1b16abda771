"""A tool's result given as content blocks -> core parts, so that an image, audio or a file a tool
returns (``response_format="content_and_artifact"``, or a list of OpenAI ``image_url`` blocks) is
described like the chat span's (blob: modality, MIME type, size; a scrubbed URI; a file id),
never copied. Any other result is handed to core as it is.

Per tool span: an ``isinstance`` check; a list result is looked through once for a binary block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_trace_core import Part, TextPart
from genai_trace_langchain._blocks import block_part

__all__ = ["tool_result"]


def _media(block: Any) -> bool:
    return isinstance(block, Mapping) and block.get("type") not in (None, "text")


def _converted(block: Any) -> Part | Any:
    if isinstance(block, str):
        return TextPart(block)
    if isinstance(block, Mapping):
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            return TextPart(block["text"])
        part = block_part(block)
        return part if part is not None else block
    return block


def tool_result(content: Any) -> Any:
    """``content`` with its binary content blocks as core parts (a list), else ``content``."""
    if not isinstance(content, list) or not any(_media(block) for block in content):
        return content
    return [_converted(block) for block in content]
