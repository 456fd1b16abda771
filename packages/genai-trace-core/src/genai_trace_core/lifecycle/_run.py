"""One open run in the registry: its span, its place in the tree and what end needs."""

from __future__ import annotations

import weakref
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context

from genai_trace_core._attribution import current_attribution
from genai_trace_core.records import Operation, OperationKind

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

    from genai_trace_core._attribution import Attribution


_NO_ATTRIBUTES: dict[str, Any] = {}
_MAX_CALL_IDS = 1024  # tool call ids an agent run remembers (its memory stays bounded)


class Run:
    """One open run: its span, contexts, parent, attribution and what it accumulates till end."""

    __slots__ = (
        "active_ctx",
        "attribution",
        "block",
        "budget",
        "children",
        "ctx",
        "ended",
        "home_ref",
        "home_token",
        "inference_calls",
        "last_active",
        "last_chunk_ns",
        "metric_attrs",
        "op",
        "outer",
        "parent",
        "prev_ctx",
        "provider_data",
        "quiet_ref",
        "rollup",
        "run_id",
        "span",
        "start_ns",
        "streaming",
        "tool_call_ids",
        "tool_calls",
        "ttfc",
    )

    def __init__(
        self,
        run_id: Hashable,
        parent: Run | None,
        op: Operation | None,
        attribution: Attribution | None,
    ) -> None:
        self.run_id = run_id
        self.parent = parent
        self.op = op
        self.attribution = attribution
        self.block: Attribution | None = None  # the attribution() block current at its start
        self.outer: Run | None = None  # a top run's: the run current where it started, if any
        self.span: Span | None = None
        self.ctx: Context
        self.active_ctx: Context | None = None
        self.prev_ctx: Context | None = None
        # The asyncio tasks a run remembers, held weakly (``task_ref``/``task_of``): a strong
        # reference kept the task alive as long as the run was open, and on Python 3.10 a
        # cancelled task keeps its CancelledError, whose traceback holds the cancelled
        # coroutine's frames: a stream still referenced there (a LlamaIndex ``aquery`` stream
        # read in a task that was cancelled) was then never closed nor collected, so the
        # model-call span it would end stayed open until the registry TTL.
        self.home_ref: weakref.ref[Any] | None = None  # the task an activation was made in
        self.quiet_ref: weakref.ref[Any] | None = None  # where its tree is not activated
        # a framework root's mark of the execution context it was activated in (_context)
        self.home_token: Any = None
        self.children: set[Run] | None = None
        self.ended = False
        self.start_ns = 0
        self.last_chunk_ns: int | None = None
        # When a child last ended (ns), set by ``finish`` only: unset until then (nothing is
        # written at start); the registry reads it only to tell an idle tree (``_evict``).
        self.last_active: int
        # A stream's time to first chunk (s), recorded on its metric at the run's end, with the
        # response model and error type only the end knows (_run_metrics).
        self.ttfc: float | None = None
        self.metric_attrs: dict[str, Any] = _NO_ATTRIBUTES  # set at start; never mutated
        self.budget: Any = None
        self.streaming = bool(op is not None and op.request is not None and op.request.stream)
        self.inference_calls = 0
        self.tool_calls = 0
        self.tool_call_ids: set[str] | None = None  # an agent's counted tool call ids
        # util-genai's data object in this run's activation: a suppressed provider
        # instrumentation publishes the call's usage there (see _suppress)
        self.provider_data: Any = None
        self.rollup: Any = None  # an agent's sums over its model calls (see _rollup)

    def add_child(self, child: Run) -> None:
        if self.children is None:
            self.children = set()
        self.children.add(child)

    def remove_child(self, child: Run) -> None:
        if self.children is not None:
            self.children.discard(child)

    def open_ancestor(self) -> Run | None:
        """The nearest ancestor still open (ending the root then reaches a run put under it)."""
        p = self.parent
        for _ in range(64):  # bounded walk past ended ancestors
            if p is None or not p.ended:
                return p
            p = p.parent
        return None

    def count_in_agent(self, *, tool: bool) -> None:
        """Count this inference/tool call on the nearest enclosing agent. A tool call is counted
        once per call id: a step that runs the same call again (LlamaIndex's ``call_tool`` step
        re-run after ``ctx.wait_for_event`` paused it, a retried step) is not another call."""
        p = self.parent
        while p is not None:
            if p.op is not None and p.op.kind is OperationKind.INVOKE_AGENT:
                if not tool:
                    p.inference_calls += 1
                elif p.first_tool_call(self.op.tool_call_id if self.op is not None else None):
                    p.tool_calls += 1
                return
            p = p.parent

    def first_tool_call(self, call_id: str | None) -> bool:
        """Whether this agent sees ``call_id`` for the first time (always, without an id)."""
        if not call_id or not isinstance(call_id, str):
            return True
        seen = self.tool_call_ids
        if seen is None:
            seen = self.tool_call_ids = set()
        elif call_id in seen:
            return False
        if len(seen) < _MAX_CALL_IDS:
            seen.add(call_id)
        return True

    def enclosing_agent_name(self) -> str | None:
        """The name of the nearest enclosing ``invoke_agent`` run (this run included)."""
        p: Run | None = self
        while p is not None:
            op = p.op
            if op is not None and op.kind is OperationKind.INVOKE_AGENT:
                return op.agent_name or op.name
            p = p.parent
        return None

    def has_invocation_ancestor(self) -> bool:
        """Whether an agent or workflow encloses this run: up its parents, and from the top one
        on, up the run whose activation it started in (another integration's, an app's call
        made without passing the framework's config)."""
        node: Run = self
        for _ in range(256):  # bounded: a cycle of outer runs cannot loop
            p = node.parent if node.parent is not None else node.outer
            if p is None:
                return False
            if p.op is not None and p.op.kind.is_invocation:
                return True
            node = p
        return False


class Late:
    """What a run started after its parent ended inherits from it, carried by the parent's
    context (:func:`late_context`): the parent's attribution, the ``attribution()`` block it
    started in and the name of its enclosing agent. No span, no run: a context kept for late
    work (a retired run's, one handed out by ``Telemetry.context_of``) keeps nothing else alive."""

    __slots__ = ("agent_name", "attribution", "block")

    def __init__(self, run: Run) -> None:
        self.attribution = run.attribution
        self.block = run.block
        self.agent_name = run.enclosing_agent_name()

    def enclosing_agent_name(self) -> str | None:
        return self.agent_name


LATE_KEY = otel_context.create_key("genai_trace.late")


def late_context(ctx: Context, run: Run) -> Context:
    """``ctx`` carrying what a run started in it after ``run`` ended inherits (:class:`Late`):
    a lazily read stream, an async branch its root did not wait for, explicit propagation."""
    return otel_context.set_value(LATE_KEY, Late(run), ctx)


def late_of(ctx: Context) -> Late | None:
    """What a run with no parent run that starts in ``ctx`` inherits, if ``ctx`` carries it."""
    late = ctx.get(LATE_KEY)
    return late if isinstance(late, Late) else None


def inherited_attribution(
    block: Attribution | None, parent: Run | Late | None
) -> Attribution | None:
    """What a new run inherits: its parent run's attribution (or, for a run with none, what
    its context carries from a run that ended: :class:`Late`), with an ``attribution()`` block
    opened since the parent started (inside a tool, a lambda, a step) merged over it; the
    current block when it has neither."""
    if parent is None:
        return block
    if block is None or block is parent.block:
        return parent.attribution
    if isinstance(parent, Late) and not block.opened_inside(parent.block):
        # the block of whoever runs the late work (a stream read in another request's block):
        # the run it was made for wins, the block only fills what that run does not set
        return block if parent.attribution is None else parent.attribution.merged_over(block)
    return block.merged_over(parent.attribution)


def linked_root(run_id: Hashable, ctx: Context) -> Run:
    """A run with no span and no parent run (``Telemetry.link``): its children start in ``ctx``
    and inherit the attribution current now (over what ``ctx`` carries from a run that ended)."""
    block = current_attribution()
    run = Run(run_id, None, None, inherited_attribution(block, late_of(ctx)))
    run.block = block
    run.ctx = ctx
    return run


def task_ref(task: Any) -> weakref.ref[Any] | None:
    """A weak reference to ``task`` (``None`` for no task)."""
    return None if task is None else weakref.ref(task)


def task_of(ref: weakref.ref[Any] | None) -> Any:
    """The task ``ref`` refers to, ``None`` when there is none or it is gone."""
    return None if ref is None else ref()
