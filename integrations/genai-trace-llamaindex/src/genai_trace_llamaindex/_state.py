"""Process-wide flags shared by the instrumentor and the legacy callback handler."""

from __future__ import annotations

# True while LlamaIndexInstrumentor has its handlers on the root dispatcher: the legacy
# callback handler then stays silent, so the same work is never traced twice.
dispatcher_active = False
