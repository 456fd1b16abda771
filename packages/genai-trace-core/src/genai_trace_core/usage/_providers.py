"""Provider names: framework hints -> ``gen_ai.provider.name`` values, and -> genai-prices ids.

:func:`resolve_provider` tries, in order:

1. the hint itself: a LangChain ``ls_provider`` value (``openai``, ``azure_openai``,
   ``amazon_bedrock``, ``google_vertexai``...), a LlamaIndex LLM class name (``OpenAI``,
   ``BedrockConverse``, ``GoogleGenAI``...) or a semconv value;
2. a ``provider/model`` prefix in the model name (``anthropic/claude-3-5-sonnet``);
3. the model-name family (``gpt-``/``o1``/``o3`` -> openai, ``claude`` -> anthropic, ``gemini`` ->
   gcp.gemini, Bedrock ids such as ``anthropic.claude-...`` -> aws.bedrock...);
4. an unknown lower-case hint is kept as a custom value (the conventions allow them); an unknown
   CamelCase class name (a user's ``CustomLLM`` subclass) or a fake/mock model gives ``None``.

Results are cached (bounded ``lru_cache``): integrations call this once per span start.
"""

from __future__ import annotations

import functools
import re

from genai_trace_core import semconv

__all__ = ["prices_provider_id", "resolve_provider"]

_S = semconv

# Hints lower-cased, punctuation removed: ``azure_openai`` and ``AzureOpenAI`` -> ``azureopenai``.
_HINTS: dict[str, str] = {
    # OpenAI and Azure
    "openai": _S.PROVIDER_OPENAI,
    "openairesponses": _S.PROVIDER_OPENAI,
    "azure": _S.PROVIDER_AZURE_AI_OPENAI,
    "azureopenai": _S.PROVIDER_AZURE_AI_OPENAI,
    "azureaiopenai": _S.PROVIDER_AZURE_AI_OPENAI,
    "azureai": _S.PROVIDER_AZURE_AI_INFERENCE,
    "azureaiinference": _S.PROVIDER_AZURE_AI_INFERENCE,
    "azureinference": _S.PROVIDER_AZURE_AI_INFERENCE,
    # Anthropic
    "anthropic": _S.PROVIDER_ANTHROPIC,
    # AWS
    "amazonbedrock": _S.PROVIDER_AWS_BEDROCK,
    "bedrock": _S.PROVIDER_AWS_BEDROCK,
    "bedrockconverse": _S.PROVIDER_AWS_BEDROCK,
    "awsbedrock": _S.PROVIDER_AWS_BEDROCK,
    "chatbedrock": _S.PROVIDER_AWS_BEDROCK,
    "chatbedrockconverse": _S.PROVIDER_AWS_BEDROCK,
    # Google: the Gemini API (generativelanguage), Vertex AI (aiplatform), or the google-genai SDK
    # whose backend is either (gcp.gen_ai = "Google, backend unknown").
    "gemini": _S.PROVIDER_GCP_GEMINI,
    "gcpgemini": _S.PROVIDER_GCP_GEMINI,
    "googlegenerativeai": _S.PROVIDER_GCP_GEMINI,
    "googlegenai": _S.PROVIDER_GCP_GEN_AI,
    "gcpgenai": _S.PROVIDER_GCP_GEN_AI,
    "google": _S.PROVIDER_GCP_GEN_AI,
    "googlevertexai": _S.PROVIDER_GCP_VERTEX_AI,
    "vertexai": _S.PROVIDER_GCP_VERTEX_AI,
    "vertex": _S.PROVIDER_GCP_VERTEX_AI,
    "gcpvertexai": _S.PROVIDER_GCP_VERTEX_AI,
    "googleanthropicvertex": _S.PROVIDER_GCP_VERTEX_AI,
    # Others
    "cohere": _S.PROVIDER_COHERE,
    "mistral": _S.PROVIDER_MISTRAL_AI,
    "mistralai": _S.PROVIDER_MISTRAL_AI,
    "groq": _S.PROVIDER_GROQ,
    "ollama": _S.PROVIDER_OLLAMA,
    "deepseek": _S.PROVIDER_DEEPSEEK,
    "xai": _S.PROVIDER_X_AI,
    "grok": _S.PROVIDER_X_AI,
    "perplexity": _S.PROVIDER_PERPLEXITY,
    "perplexityai": _S.PROVIDER_PERPLEXITY,
    "fireworks": _S.PROVIDER_FIREWORKS,
    "fireworksai": _S.PROVIDER_FIREWORKS,
    "together": _S.PROVIDER_TOGETHER,
    "togetherai": _S.PROVIDER_TOGETHER,
    "ibm": _S.PROVIDER_IBM_WATSONX_AI,
    "watsonx": _S.PROVIDER_IBM_WATSONX_AI,
    "ibmwatsonxai": _S.PROVIDER_IBM_WATSONX_AI,
    "moonshot": _S.PROVIDER_MOONSHOT_AI,
    "moonshotai": _S.PROVIDER_MOONSHOT_AI,
}

# Hints that name no real provider: fakes and mocks. They also stop the model-name fallback.
_NO_PROVIDER = frozenset({"mockllm", "mock", "fake", "customllm", "custom"})
_FAKE_MARKERS = ("fake", "mock")

# Model-name families, first match wins (so ``gpt-4o`` is tried before nothing else matters).
_MODEL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), provider)
    for pattern, provider in (
        # Bedrock model ids: [region.]vendor.model
        (
            r"^(?:[a-z]{2}\.|global\.)?(?:anthropic|amazon|meta|cohere|ai21|mistral|deepseek|writer)\.",
            _S.PROVIDER_AWS_BEDROCK,
        ),
        (
            r"^(?:gpt-|o[1-9](?:-|$)|chatgpt-|text-embedding-|text-davinci|davinci|babbage|dall-e|"
            r"whisper-|tts-|omni-moderation|codex-)",
            _S.PROVIDER_OPENAI,
        ),
        (r"^claude", _S.PROVIDER_ANTHROPIC),
        (r"^gemini", _S.PROVIDER_GCP_GEMINI),
        (
            r"^(?:mistral|mixtral|codestral|ministral|pixtral|magistral|devstral|open-mistral)",
            _S.PROVIDER_MISTRAL_AI,
        ),
        (r"^(?:command|embed-english|embed-multilingual|embed-v|rerank-)", _S.PROVIDER_COHERE),
        (r"^grok", _S.PROVIDER_X_AI),
        (r"^deepseek", _S.PROVIDER_DEEPSEEK),
        (r"^sonar", _S.PROVIDER_PERPLEXITY),
    )
)

_CUSTOM_HINT = re.compile(r"^[a-z][a-z0-9_.\-]{0,63}$")
_PUNCT = re.compile(r"[\s_.\-]+")

# semconv provider name -> genai-prices provider id (None: not priced there, e.g. local Ollama).
_PRICES_IDS: dict[str, str] = {
    _S.PROVIDER_OPENAI: "openai",
    _S.PROVIDER_ANTHROPIC: "anthropic",
    _S.PROVIDER_AWS_BEDROCK: "aws",
    _S.PROVIDER_AZURE_AI_OPENAI: "azure",
    _S.PROVIDER_AZURE_AI_INFERENCE: "azure",
    _S.PROVIDER_COHERE: "cohere",
    _S.PROVIDER_DEEPSEEK: "deepseek",
    _S.PROVIDER_GCP_GEMINI: "google",
    _S.PROVIDER_GCP_VERTEX_AI: "google",
    _S.PROVIDER_GCP_GEN_AI: "google",
    _S.PROVIDER_GROQ: "groq",
    _S.PROVIDER_MISTRAL_AI: "mistral",
    _S.PROVIDER_MOONSHOT_AI: "moonshotai",
    _S.PROVIDER_PERPLEXITY: "perplexity",
    _S.PROVIDER_X_AI: "x-ai",
    _S.PROVIDER_FIREWORKS: "fireworks",
    _S.PROVIDER_TOGETHER: "together",
}


def _from_model(model: str) -> str | None:
    m = model.strip().lower()
    if "/" in m:
        # "anthropic/claude-3-5-sonnet" (LiteLLM/OpenRouter style); Together/Fireworks paths such as
        # "accounts/fireworks/models/..." or "meta-llama/Llama-3" fall through to the family check.
        prefix, _, rest = m.partition("/")
        hinted = _HINTS.get(_PUNCT.sub("", prefix))
        if hinted is not None:
            return hinted
        m = rest.rsplit("/", 1)[-1]
    for pattern, provider in _MODEL_PATTERNS:
        if pattern.match(m):
            return provider
    return None


def resolve_provider(hint: str | None, model: str | None = None) -> str | None:
    """Map a framework hint (and, as a fallback, a model name) to a ``gen_ai.provider.name``.

    Never raises: anything that is not a string counts as absent.
    """
    return _resolve(
        hint if isinstance(hint, str) else None, model if isinstance(model, str) else None
    )


@functools.lru_cache(maxsize=512)
def _resolve(hint: str | None, model: str | None) -> str | None:
    key: str | None = None
    if hint is not None and hint.strip():
        key = _PUNCT.sub("", hint.strip().lower())
        found = _HINTS.get(key)
        if found is not None:
            return found
        if key in _NO_PROVIDER or any(marker in key for marker in _FAKE_MARKERS):
            return None
        # semconv values given back to us, e.g. "aws.bedrock" or "gcp.vertex_ai".
        stripped = hint.strip().lower()
        if stripped in _PRICES_IDS or stripped in (_S.PROVIDER_OLLAMA, _S.PROVIDER_IBM_WATSONX_AI):
            return stripped
    if model is not None and model.strip():
        found = _from_model(model)
        if found is not None:
            return found
    if key is not None and hint is not None:
        stripped = hint.strip()
        # LangChain ls_provider values are lower-case identifiers: keep them as custom values.
        # A CamelCase LlamaIndex class name we do not know is a user's own class: no provider.
        if _CUSTOM_HINT.match(stripped):
            return stripped
    return None


def prices_provider_id(provider: str | None) -> str | None:
    """The genai-prices provider id for a ``gen_ai.provider.name`` value, or ``None``."""
    if provider is None:
        return None
    return _PRICES_IDS.get(provider)
