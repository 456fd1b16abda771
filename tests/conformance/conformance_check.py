"""Validate finished spans, metric points and log records against ``conformance_rules``.

Each ``check_*`` returns a list of violations (strings); a scenario passes only with none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import conformance_rules as r
import jsonschema

_SCHEMAS = {
    p.name.removesuffix(".json"): json.loads(p.read_text())
    for p in (Path(__file__).parent / "schemas").glob("*.json")
}


def _schema(name: str, value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [f"{where}: {name} is not JSON"]
    value = json.loads(json.dumps(value))  # the SDK hands event lists over as tuples
    errors = list(jsonschema.Draft202012Validator(_SCHEMAS[name]).iter_errors(value))
    return [f"{where}: {name} schema: {e.message} at {list(e.absolute_path)}" for e in errors]


def check_attributes(attrs: Mapping[str, Any], where: str) -> list[str]:
    """Registry names, deprecated names, types and enum values."""
    out: list[str] = []
    for key, value in attrs.items():
        if key in r.DEPRECATED or key.startswith("gen_ai.openai."):
            out.append(f"{where}: deprecated {key}")
        if key.startswith("gen_ai.") and key not in r.REGISTRY and not key.startswith(r.PREFIXED):
            out.append(f"{where}: {key} is not in the GenAI registry")
        expected = r.TYPES.get(key)
        if expected is not None and r.type_of(value) != expected:
            out.append(f"{where}: {key}={value!r} is {r.type_of(value)}, not {expected}")
        allowed = r.ENUMS.get(key)
        if allowed is not None and value not in allowed:
            out.append(f"{where}: {key}={value!r} not in {sorted(allowed)}")
    return out


def _parents(spans: list[Any]) -> dict[int, Any]:
    return {s.context.span_id: s for s in spans}


def _agent_above(span: Any, by_id: dict[int, Any]) -> Any:
    p = span.parent
    while p is not None:
        parent = by_id.get(p.span_id)
        if parent is None:
            return None
        if (parent.attributes or {}).get("gen_ai.operation.name") == "invoke_agent":
            return parent
        p = parent.parent
    return None


def check_span(span: Any, spans: list[Any], capture: bool) -> list[str]:
    attrs = dict(span.attributes or {})
    op = attrs.get("gen_ai.operation.name")
    where = f"span {span.name!r}"
    out = check_attributes(attrs, where)
    rule = r.SPANS.get(str(op))
    if op is None or rule is None:
        return out  # a framework step: ours, no GenAI operation
    failed = span.status.status_code.name == "ERROR"
    if span.kind.name != rule.kind:
        out.append(f"{where}: kind {span.kind.name}, expected {rule.kind}")
    target = attrs.get(rule.name_attr) if rule.name_attr else None
    expected_name = f"{op} {target}" if target else str(op)
    if span.name != expected_name:
        out.append(f"{where}: name should be {expected_name!r}")
    for key in rule.required:
        if key not in attrs:
            out.append(f"{where}: required {key} missing")
    for key in rule.forbidden:
        if key in attrs:
            out.append(f"{where}: {key} does not belong on {op}")
    if "server.address" in attrs and "server.port" not in attrs:
        out.append(f"{where}: server.port is required once server.address is set")
    if failed and "error.type" not in attrs:
        out.append(f"{where}: error.type required on failure")
    if not failed:
        for key in rule.recommended:
            if key not in attrs:
                out.append(f"{where}: recommended {key} missing")
    agent = _agent_above(span, _parents(spans)) if op == "execute_tool" else None
    if agent is not None and "gen_ai.agent.name" not in attrs:
        out.append(f"{where}: gen_ai.agent.name required when run by an agent")
    if op == "invoke_agent" and not failed:
        calls = [
            s
            for s in spans
            if (s.attributes or {}).get("gen_ai.operation.name") in r.INFERENCE
            and _agent_above(s, _parents(spans)) is span
        ]
        if any("gen_ai.usage.input_tokens" in (s.attributes or {}) for s in calls):
            for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"):
                if key not in attrs:
                    out.append(f"{where}: recommended {key} (sum of its calls) missing")
        if calls and "gen_ai.response.finish_reasons" not in attrs:
            out.append(f"{where}: recommended gen_ai.response.finish_reasons missing")
        if capture and calls:
            for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
                if key not in attrs:
                    out.append(f"{where}: opt-in {key} missing with capture on")
    if capture and op in r.INFERENCE:
        needed = ["gen_ai.input.messages"] + ([] if failed else ["gen_ai.output.messages"])
        for key in needed:
            if key not in attrs:
                out.append(f"{where}: opt-in {key} missing with capture on")
    for key in r.OPT_IN:
        if key in attrs and not capture:
            out.append(f"{where}: opt-in {key} exported with capture off")
    for key in r.CONTENT:
        if key in attrs:
            out += _schema(key, attrs[key], where)
    return out


def check_metrics(metrics: Mapping[str, Any]) -> list[str]:
    """``metrics``: ``{name: (metric, points)}`` with the SDK metric and its data points."""
    out: list[str] = []
    for name, (metric, points) in metrics.items():
        if not name.startswith("gen_ai."):
            continue
        rule = r.METRICS.get(name)
        if rule is None:
            out.append(f"metric {name}: not a GenAI metric on genai main")
            continue
        kind, unit, required = rule
        actual = "histogram" if type(metric.data).__name__ == "Histogram" else "counter"
        if actual != kind or metric.unit != unit:
            out.append(f"metric {name}: {actual} {metric.unit}, expected {kind} {unit}")
        for p in points:
            attrs = dict(p.attributes or {})
            where = f"metric {name} {sorted(attrs.items())}"
            out += check_attributes(attrs, where)
            out += [f"{where}: required {k} missing" for k in required if k not in attrs]
            out += [
                f"{where}: {k} must not be on metrics" for k in r.METRIC_FORBIDDEN if k in attrs
            ]
            if "server.address" in attrs and "server.port" not in attrs:
                out.append(f"{where}: server.port required once server.address is set")
    return out


def check_token_points(spans: Iterable[Any], metrics: Mapping[str, Any]) -> list[str]:
    """Each model call that failed, or has usage on its span, has a data point on its
    operation's token histogram with the same operation, model and ``error.type``."""
    out: list[str] = []
    for span in spans:
        attrs = dict(span.attributes or {})
        name = r.TOKEN_HISTOGRAMS.get(str(attrs.get("gen_ai.operation.name")))
        if name is None:
            continue
        if "error.type" not in attrs and "gen_ai.usage.input_tokens" not in attrs:
            continue
        keys = ("gen_ai.operation.name", "gen_ai.request.model", "error.type")
        want = tuple(attrs.get(k) for k in keys)
        _, points = metrics.get(name, (None, []))
        if not any(tuple((p.attributes or {}).get(k) for k in keys) == want for p in points):
            error = attrs.get("error.type")
            out.append(f"metric {name}: no data point for span {span.name!r} (error.type={error})")
    return out


def check_logs(records: Iterable[Any], spans: list[Any], capture_events: bool) -> list[str]:
    out: list[str] = []
    by_id = _parents(spans)
    for rec in records:
        name = rec.event_name
        where = f"event {name}"
        attrs = dict(rec.attributes or {})
        if name in r.SEVERITY and rec.severity_number.value != r.SEVERITY[name]:
            out.append(f"{where}: severity {rec.severity_number.name}")
        if name == r.EXCEPTION_EVENT:
            out += [f"{where}: {k} missing" for k in ("exception.type", "exception.message")
                    if k not in attrs]  # fmt: skip
            continue
        if name != r.DETAILS_EVENT:
            continue
        out += check_attributes({k: v for k, v in attrs.items() if k not in r.CONTENT}, where)
        span = by_id.get(rec.span_id)
        if span is None:
            out.append(f"{where}: not linked to its span")
            continue
        for key in ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.output.type"):
            if key in (span.attributes or {}) and attrs.get(key) != span.attributes[key]:
                out.append(f"{where}: {key} differs from its span's")
        for key in r.CONTENT:
            if key in attrs:
                if isinstance(attrs[key], str):
                    out.append(f"{where}: {key} must be structured on events")
                out += _schema(key, attrs[key], where)
        if capture_events and "gen_ai.input.messages" not in attrs:
            out.append(f"{where}: gen_ai.input.messages missing in an event capture mode")
    return out


def metric_points(reader: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                out[m.name] = (m, list(m.data.data_points))
    return out
