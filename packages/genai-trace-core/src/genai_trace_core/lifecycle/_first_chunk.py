"""A run's streamed chunks: time to first chunk, the stream flag, a streaming root's hand-over of
its context to the loop that reads it, and the gaps between chunks.

Both times go on the metrics at the run's end (``_run_metrics``), with the response model and the
error type the duration carries, which are not known while chunks arrive; until then a chunk
costs one float appended, no histogram lock. At most ``MAX_KEPT_GAPS`` gaps are kept per run: a
longer stream records each full batch as it fills, with the attributes known at its start."""

from __future__ import annotations

from genai_trace_core import semconv
from genai_trace_core.lifecycle import _context
from genai_trace_core.lifecycle._finish import deactivate
from genai_trace_core.lifecycle._metrics import Instruments
from genai_trace_core.lifecycle._run import Run

MAX_KEPT_GAPS = 4096
"""Gaps between chunks kept per run until its end (32 KB of floats at most)."""


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


def later_chunk(instruments: Instruments, run: Run, gap: float) -> None:
    """Keep the ``gap`` (s) since ``run``'s previous chunk for its end."""
    gaps = run.chunk_gaps
    if gaps is None:
        gaps = run.chunk_gaps = []
    gaps.append(gap)
    if len(gaps) >= MAX_KEPT_GAPS:
        instruments.chunk_gaps(run.metric_attrs, gaps)
        gaps.clear()
