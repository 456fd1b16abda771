from __future__ import annotations

import pytest

from genai_trace_core import semconv as S
from genai_trace_core.usage import resolve_provider

# internal: the cached resolver behind resolve_provider and the genai-prices id it maps to
from genai_trace_core.usage._providers import _resolve, prices_provider_id


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        # LangChain ls_provider values
        ("openai", S.PROVIDER_OPENAI),
        ("azure", S.PROVIDER_AZURE_AI_OPENAI),
        ("azure_openai", S.PROVIDER_AZURE_AI_OPENAI),
        ("azure_ai", S.PROVIDER_AZURE_AI_INFERENCE),
        ("anthropic", S.PROVIDER_ANTHROPIC),
        ("amazon_bedrock", S.PROVIDER_AWS_BEDROCK),
        ("bedrock", S.PROVIDER_AWS_BEDROCK),
        ("google_vertexai", S.PROVIDER_GCP_VERTEX_AI),
        ("google_genai", S.PROVIDER_GCP_GEN_AI),
        ("cohere", S.PROVIDER_COHERE),
        ("mistralai", S.PROVIDER_MISTRAL_AI),
        ("groq", S.PROVIDER_GROQ),
        ("ollama", S.PROVIDER_OLLAMA),
        ("deepseek", S.PROVIDER_DEEPSEEK),
        ("xai", S.PROVIDER_X_AI),
        ("perplexity", S.PROVIDER_PERPLEXITY),
        ("fireworks", S.PROVIDER_FIREWORKS),
        ("together", S.PROVIDER_TOGETHER),
        ("ibm", S.PROVIDER_IBM_WATSONX_AI),
        # LlamaIndex LLM class names
        ("OpenAI", S.PROVIDER_OPENAI),
        ("AzureOpenAI", S.PROVIDER_AZURE_AI_OPENAI),
        ("Anthropic", S.PROVIDER_ANTHROPIC),
        ("Bedrock", S.PROVIDER_AWS_BEDROCK),
        ("BedrockConverse", S.PROVIDER_AWS_BEDROCK),
        ("Gemini", S.PROVIDER_GCP_GEMINI),
        ("GoogleGenAI", S.PROVIDER_GCP_GEN_AI),
        ("Vertex", S.PROVIDER_GCP_VERTEX_AI),
        ("Ollama", S.PROVIDER_OLLAMA),
        ("MistralAI", S.PROVIDER_MISTRAL_AI),
        ("Cohere", S.PROVIDER_COHERE),
        ("Groq", S.PROVIDER_GROQ),
        # semconv values pass through
        ("aws.bedrock", S.PROVIDER_AWS_BEDROCK),
        ("gcp.vertex_ai", S.PROVIDER_GCP_VERTEX_AI),
        ("x_ai", S.PROVIDER_X_AI),
    ],
)
def test_framework_hints_map_to_semconv_provider_names(hint: str, expected: str) -> None:
    assert resolve_provider(hint) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini", S.PROVIDER_OPENAI),
        ("o1", S.PROVIDER_OPENAI),
        ("o3-mini", S.PROVIDER_OPENAI),
        ("text-embedding-3-small", S.PROVIDER_OPENAI),
        ("claude-3-5-sonnet-20241022", S.PROVIDER_ANTHROPIC),
        ("gemini-2.5-flash", S.PROVIDER_GCP_GEMINI),
        ("mistral-large-latest", S.PROVIDER_MISTRAL_AI),
        ("mixtral-8x7b", S.PROVIDER_MISTRAL_AI),
        ("command-r-plus", S.PROVIDER_COHERE),
        ("grok-3", S.PROVIDER_X_AI),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", S.PROVIDER_AWS_BEDROCK),
        ("anthropic/claude-3-haiku", S.PROVIDER_ANTHROPIC),
        ("ollama-llama3", None),
        ("my-private-model", None),
    ],
)
def test_model_name_is_the_last_resort(model: str, expected: str | None) -> None:
    assert resolve_provider(None, model) == expected


def test_hint_wins_over_model_name() -> None:
    # An OpenAI model served by Azure is Azure.
    assert resolve_provider("azure_openai", "gpt-4o") == S.PROVIDER_AZURE_AI_OPENAI
    # Groq serving a Mistral model is Groq.
    assert resolve_provider("groq", "mixtral-8x7b-32768") == S.PROVIDER_GROQ


@pytest.mark.parametrize("hint", ["MockLLM", "CustomLLM", "FakeListLLM", "fake-chat-model"])
def test_fake_and_mock_models_have_no_provider_even_with_a_real_model_name(hint: str) -> None:
    assert resolve_provider(hint, "gpt-4o") is None


def test_unknown_lowercase_hint_is_kept_as_custom_value_and_unknown_class_name_dropped() -> None:
    assert resolve_provider("huggingface") == "huggingface"
    assert resolve_provider("MyCompanyLLM") is None
    assert resolve_provider("MyCompanyLLM", "claude-3-haiku") == S.PROVIDER_ANTHROPIC


@pytest.mark.parametrize("bad", [None, "", "   ", 42, ["openai"], {"a": 1}])
def test_garbage_input_gives_none_without_raising(bad: object) -> None:
    assert resolve_provider(bad, bad) is None  # type: ignore[arg-type]


def test_results_are_cached_in_a_bounded_lru() -> None:
    _resolve.cache_clear()
    resolve_provider("openai", "gpt-4o")
    resolve_provider("openai", "gpt-4o")
    info = _resolve.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (1, 1, 512)


@pytest.mark.parametrize(
    ("provider", "prices_id"),
    [
        (S.PROVIDER_OPENAI, "openai"),
        (S.PROVIDER_AZURE_AI_OPENAI, "azure"),
        (S.PROVIDER_AWS_BEDROCK, "aws"),
        (S.PROVIDER_GCP_GEMINI, "google"),
        (S.PROVIDER_GCP_VERTEX_AI, "google"),
        (S.PROVIDER_MISTRAL_AI, "mistral"),
        (S.PROVIDER_X_AI, "x-ai"),
        (S.PROVIDER_OLLAMA, None),
        ("huggingface", None),
        (None, None),
    ],
)
def test_semconv_provider_maps_to_genai_prices_id(
    provider: str | None, prices_id: str | None
) -> None:
    assert prices_provider_id(provider) == prices_id


def test_every_mapped_genai_prices_id_exists_in_the_installed_table() -> None:
    from genai_prices.data_snapshot import get_snapshot

    ids = {p.id for p in get_snapshot().providers}
    from genai_trace_core.usage._providers import _PRICES_IDS  # internal: the mapping itself

    assert set(_PRICES_IDS.values()) <= ids
