"""A run's first streamed chunk: time to first chunk, the stream flag, and a streaming root's
hand-over of its context to the loop that reads it.

The time to first chunk goes on its metric at the run's end (``_run_metrics``), with the
response model and error type its duration carries, which are not known while chunks arrive.
The gaps between later chunks are recorded as they arrive (``Telemetry.chunk``), with the
attributes known at the start: keeping them for the end would move one histogram record per
chunk (10-30 µs each here, while the app waits on the network anyway) onto the stream's end, the
app's critical path (10-30 ms for a 1,000-chunk answer, measured 2026-12-07)."""

from __future__ import annotations

from genai_trace_core import semconv
from genai_trace_core.lifecycle import _context
from genai_trace_core.lifecycle._finish import deactivate
from genai_trace_core.lifecycle._run import Run


def first_chunk(run: Run, t: int) -> None:
    """Record ``run``'s first chunk, arrived at ``t`` (ns)."""
    assert run.span is not None
    run.streaming = True
    if run.home_token is not None and _context.in_home_context(run):
        # A root streaming in the context it was activated in hands each chunk to a consumer
        # running right here (a ``for`` loop over ``model.stream()``): from now on the
        # consumer's own spans belong to its caller, not to this run.
        deactivate(run)
    ttfc = (t - run.start_ns) / 1e9
    # The first chunk proves the call streams, even when the request did not say so.
    run.span.set_attributes(
        {
            semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: ttfc,
            semconv.GEN_AI_REQUEST_STREAM: True,
        }
    )
    run.ttfc = ttfc
