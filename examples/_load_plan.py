"""The traffic mix of ``load.py``: which request comes next, decided up front from a seeded RNG
(pipeline, model and provider, tenant and user, feature, streaming, injected failure, feedback),
and how each scenario bends the mix."""

from __future__ import annotations

import random
from dataclasses import dataclass

SCENARIOS = ("mixed", "cost-spike", "latency-spike", "error-burst")
# (LangChain ls_provider, model, response model, weight in the mixed traffic)
MODELS = (
    ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 40),
    ("openai", "gpt-4o", "gpt-4o-2024-08-06", 15),
    ("openai", "o3-mini", "o3-mini-2025-01-31", 10),
    ("anthropic", "claude-3-5-haiku-latest", "claude-3-5-haiku-20241022", 15),
    ("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", 10),
    ("mistralai", "mistral-large-latest", "mistral-large-2411", 10),
)
TENANTS = {"acme": ["u-1", "u-2", "u-3"], "globex": ["u-4", "u-5"], "initech": ["u-6"]}
PROMPT_VERSIONS = ("v1", "v2")
FEATURES = {
    "rag": "support-chat",
    "rag_llamaindex": "support-chat",  # the same feature, served by the LlamaIndex pipeline
    "agent": "trip-planner",
    "chat": "summarise",
}


@dataclass
class Plan:
    """One request, decided up front from the seeded RNG."""

    kind: str  # "rag" | "rag_llamaindex" | "agent" | "chat"
    provider: str
    model: str
    response_model: str
    stream: bool
    failure: str | None  # None | "rate_limit_retried" | "rate_limit" | "timeout"
    tenant: str
    user: str
    feature: str
    prompt_version: str
    feedback: float | None
    delay_s: float
    reasoning_tokens: int = 0


def make_plan(rng: random.Random, scenario: str) -> Plan:
    provider, model, response_model, _ = rng.choices(MODELS, weights=[m[3] for m in MODELS])[0]
    tenant = rng.choice(sorted(TENANTS))
    kind = rng.choices(("rag", "rag_llamaindex", "agent", "chat"), weights=(40, 15, 25, 20))[0]
    roll = rng.random()
    failure = None
    error_share = 0.5 if scenario == "error-burst" else 0.06
    if roll < error_share:
        failure = rng.choice(("rate_limit_retried", "rate_limit", "timeout"))
    plan = Plan(
        kind=kind,
        provider=provider,
        model=model,
        response_model=response_model,
        stream=kind != "agent" and rng.random() < 0.35,
        failure=failure,
        tenant=tenant,
        user=rng.choice(TENANTS[tenant]),
        feature=FEATURES[kind],
        prompt_version=rng.choice(PROMPT_VERSIONS),
        feedback=None if rng.random() < 0.7 else float(rng.random() < 0.8),
        delay_s=rng.uniform(0.002, 0.01),
    )
    if scenario == "cost-spike":  # the priciest models thinking hard: dollars per call
        plan.provider, plan.model, plan.response_model = "openai", "o1", "o1-2024-12-17"
        plan.reasoning_tokens = 20_000
    elif scenario == "latency-spike":  # ~30 s streamed calls, 6 s to the first chunk
        plan.stream, plan.delay_s, plan.kind, plan.feature = True, 6.0, "chat", "summarise"
    return plan
