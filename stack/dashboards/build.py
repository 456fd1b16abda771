"""Generate the dashboard JSON that Grafana provisions, from the Python in this folder.

    python stack/dashboards/build.py          # rewrite stack/dashboards/*.json
    python stack/dashboards/build.py --check  # exit 1 if a committed file is stale

Needs grafana-foundation-sdk==1769699241 (Grafana 12+ "next" types, Python >= 3.11).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import cost  # noqa: E402
import errors  # noqa: E402
import llm_overview  # noqa: E402
import model_comparison  # noqa: E402
import rag_agents  # noqa: E402
import stack_health  # noqa: E402
import tenants  # noqa: E402
from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402
from grafana_foundation_sdk.models.dashboard import Dashboard  # noqa: E402

DASHBOARDS: dict[str, Callable[[], Dashboard]] = {
    "llm-overview.json": llm_overview.build,
    "cost.json": cost.build,
    "model-comparison.json": model_comparison.build,
    "rag-agents.json": rag_agents.build,
    "errors.json": errors.build,
    "tenants.json": tenants.build,
    "stack-health.json": stack_health.build,
}


def render_all() -> dict[str, str]:
    """File name -> JSON text, deterministic (sorted keys, fixed panel ids)."""
    out = {}
    for name, build in DASHBOARDS.items():
        dash = build()
        for panel_id, panel in enumerate(dash.panels or [], start=1):
            panel.id_val = panel_id
        out[name] = json.dumps(dash, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, text in render_all().items():
        path = HERE / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale dashboards (run python stack/dashboards/build.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
