"""The name of a LlamaIndex built-in prompt template, from the template text a legacy
``TEMPLATING`` event carries (the event has the text, not the template object).

Built once, on the first templating event: ``{template text: name}`` over the templates in
``llama_index.core.prompts.default_prompts`` and ``chat_prompts``, named after their module
attribute (``DEFAULT_TEXT_QA_PROMPT`` -> ``text_qa_prompt``). A user's own template has no name.
"""

from __future__ import annotations

import functools


@functools.cache
def _builtin_names() -> dict[str, str]:
    from llama_index.core.prompts import chat_prompts, default_prompts
    from llama_index.core.prompts.base import BasePromptTemplate

    names: dict[str, str] = {}
    for module in (default_prompts, chat_prompts):
        for attr, value in vars(module).items():
            if not isinstance(value, BasePromptTemplate):
                continue
            try:
                text = value.get_template()
            except Exception:  # a template that cannot render has no key
                continue
            name = attr.lower().removeprefix("default_")
            names.setdefault(text, name)
    return names


def template_name(template: object) -> str | None:
    """The built-in template's name for ``template`` (its text), else ``None``."""
    if not isinstance(template, str) or not template:
        return None
    return _builtin_names().get(template)
