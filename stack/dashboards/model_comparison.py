"""Model comparison: the same questions asked of every model side by side: how fast, how
reliable, how expensive per token, how many tokens it spends to answer, and what users and
evaluators think of its answers (per model and prompt version)."""

# PromQL/TraceQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

from _common import (
    COST,
    ERR,
    EVAL_COUNT,
    EVAL_SCORE,
    INFERENCE_DURATION,
    OK,
    OP_OUTPUT_TOKENS,
    SEL,
    TTFC,
    UID_MODELS,
    USAGE_INPUT,
    USAGE_OUTPUT,
    USAGE_REASONING,
    new_dashboard,
    prom,
    prom_table,
    quantile,
    row,
    tokens_in_out,
    ts,
)
from grafana_foundation_sdk.models.dashboard import Dashboard

BY = "gen_ai_request_model"
CALLS = f"{INFERENCE_DURATION}_count"
INFERENCE_SEL = f'{SEL}, gen_ai_operation_name=~"chat|text_completion|generate_content"'


def _calls(extra: str = "", window: str = "$__range") -> str:
    sel = f"{SEL}, {extra}" if extra else SEL
    return f"sum by ({BY}) (increase({CALLS}{{{sel}}}[{window}]))"


def build() -> Dashboard:
    cost_per_1k = (
        f"1000 * sum by ({BY}) (increase({COST}{{{INFERENCE_SEL}}}[$__range]))"
        f" / {tokens_in_out('increase', '$__range', BY)}"
    )
    error_rate = f"({_calls(ERR)} or {_calls()} * 0) / {_calls()}"
    return (
        new_dashboard(
            UID_MODELS,
            "GenAI / Model comparison",
            "Latency, cost per 1k tokens, error rate and token efficiency per model.",
        )
        .with_row(row("Side by side (selected time range)"))
        .with_panel(
            prom_table(
                "Models",
                (_calls(), "calls"),
                (quantile(0.95, INFERENCE_DURATION, BY, window="$__range"), "p95 latency (s)"),
                (quantile(0.95, TTFC, BY, window="$__range"), "p95 TTFT (s)"),
                (error_rate, "error rate"),
                (cost_per_1k, "USD per 1k tokens"),
                (
                    f"sum by ({BY}) (increase({OP_OUTPUT_TOKENS}_sum{{{SEL}, {OK}}}[$__range]))"
                    f" / sum by ({BY}) (increase({OP_OUTPUT_TOKENS}_count{{{SEL}, {OK}}}[$__range]))",
                    "output tokens per call",
                ),
                description="One row per request model; columns are joined on the model label.",
            )
        )
        .with_row(row("Over time"))
        .with_panel(
            ts(
                "p95 latency by model",
                "s",
                prom(
                    quantile(0.95, INFERENCE_DURATION, BY),
                    "{{gen_ai_request_model}}",
                    exemplar=True,
                ),
            )
        )
        .with_panel(
            ts(
                "p95 time to first token by model",
                "s",
                prom(quantile(0.95, TTFC, BY), "{{gen_ai_request_model}}"),
            )
        )
        .with_panel(
            ts(
                "Error rate by model",
                "percentunit",
                prom(
                    f"({_calls(ERR, '$__rate_interval')} or {_calls('', '$__rate_interval')} * 0)"
                    f" / {_calls('', '$__rate_interval')}",
                    "{{gen_ai_request_model}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Cost per 1k tokens by model",
                "currencyUSD",
                prom(
                    f"1000 * sum by ({BY}) (rate({COST}{{{INFERENCE_SEL}}}[$__rate_interval]))"
                    f" / {tokens_in_out('rate', '$__rate_interval', BY)}",
                    "{{gen_ai_request_model}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Token efficiency: output tokens per input token",
                "short",
                prom(
                    f"sum by ({BY}) (rate({USAGE_OUTPUT}{{{SEL}}}[$__rate_interval]))"
                    f" / sum by ({BY}) (rate({USAGE_INPUT}{{{SEL}}}[$__rate_interval]))",
                    "{{gen_ai_request_model}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Reasoning share of output tokens",
                "percentunit",
                prom(
                    f"sum by ({BY}) (rate({USAGE_REASONING}{{{SEL}}}[$__rate_interval]))"
                    f" / sum by ({BY}) (rate({USAGE_OUTPUT}{{{SEL}}}[$__rate_interval]))",
                    "{{gen_ai_request_model}}",
                ),
                description="Hidden reasoning tokens are billed as output.",
            )
        )
        .with_row(row("Feedback and quality"))
        .with_panel(
            ts(
                "Positive user feedback by model",
                "percentunit",
                prom(_feedback_rate(BY), "{{gen_ai_request_model}}"),
                description="Mean user_feedback score (thumbs up 1, down 0) from record_feedback().",
            )
        )
        .with_panel(
            ts(
                "Positive user feedback by prompt version",
                "percentunit",
                prom(_feedback_rate("gen_ai_prompt_version"), "{{gen_ai_prompt_version}}"),
                description="Compare prompt versions by what users thought of the answers.",
            )
        )
        .with_panel(
            ts(
                "Mean evaluation score by evaluation and model",
                "short",
                prom(
                    f"sum by (gen_ai_evaluation_name, {BY}) (rate({EVAL_SCORE}_sum{{{SEL}}}[$__rate_interval]))"
                    f" / sum by (gen_ai_evaluation_name, {BY}) (rate({EVAL_SCORE}_count{{{SEL}}}[$__rate_interval]))",
                    "{{gen_ai_evaluation_name}} {{gen_ai_request_model}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Feedback and evaluation results by label",
                "short",
                prom(
                    f"sum by (gen_ai_evaluation_name, gen_ai_evaluation_score_label) (rate({EVAL_COUNT}{{{SEL}}}[$__rate_interval]))",
                    "{{gen_ai_evaluation_name}}: {{gen_ai_evaluation_score_label}}",
                ),
                description="Results per second, by evaluation and label (thumbs_up, thumbs_down...).",
            )
        )
        .build()
    )


def _feedback_rate(by: str) -> str:
    sel = f'{SEL}, gen_ai_evaluation_name="user_feedback"'
    return (
        f"sum by ({by}) (rate({EVAL_SCORE}_sum{{{sel}}}[$__rate_interval]))"
        f" / sum by ({by}) (rate({EVAL_SCORE}_count{{{sel}}}[$__rate_interval]))"
    )
