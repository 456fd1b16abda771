"""Workflows, agents and tools on the dispatcher path.

* A workflow run is ``invoke_agent {name}`` when it stands for one agent, else
  ``invoke_workflow [{class}]``; the user's steps become INTERNAL step spans, built-in agent
  plumbing steps are hidden.
* ``AgentWorkflow`` with several agents: each stretch of work by one agent (from the step whose
  input names it until a handoff names another, or the run ends) is an ``invoke_agent {name}``
  span under the workflow span, and that agent's model calls and tools nest under it.
* The agent's ``call_tool`` step is the one ``execute_tool {name}`` span (the real call id); the
  ``FunctionTool.call/acall`` inside it only adds its description and, on older cores, the
  exception it raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_trace_core import Outcome, bounded_description, semconv
from genai_trace_llamaindex import _map_steps as m
from genai_trace_llamaindex._classify import Classifier, Role, split_span_id
from genai_trace_llamaindex._index import MAX_OPEN, OpenSpans

_RUN_ID_TAG = "llamaindex.run_id"
_INPUT_EVENT_TAG = "llamaindex.step.input_event"


class WorkflowRun:
    """An open workflow run: built-in agent workflow or the user's own, and, for an
    ``AgentWorkflow`` with several agents, the agent it is in (handoffs switch it)."""

    __slots__ = ("agents", "builtin", "count", "name", "span_id")

    def __init__(self, builtin: bool, agents: dict[str, Any] | None) -> None:
        self.builtin = builtin
        self.agents = agents  # None: not a multi-agent run
        self.count = 0
        self.name: str | None = None
        self.span_id: str | None = None


class AgentRuns:
    """The agent-run part of the bridge: workflow runs, their steps, agent turns and tools,
    over the bridge's index of open spans."""

    def __init__(self, spans: OpenSpans, classifier: Classifier) -> None:
        self.spans = spans
        self.telemetry = spans.telemetry
        self.classifier = classifier
        # FunctionTool.call spans hidden under the agent's call_tool span -> that span's id, and
        # the exception such a call raised (older cores keep it out of the ToolOutput)
        self.tool_calls: dict[str, str] = {}
        self.tool_errors: dict[str, BaseException] = {}

    def enter_tool(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None
    ) -> None:
        parent = self.spans.entries.get(parent_id) if parent_id is not None else None
        if parent is not None and parent[0] is Role.TOOL and parent_id is not None:
            # FunctionTool.acall under the agent's call_tool step: that span is the tool span
            meta = getattr(instance, "metadata", None)
            description = bounded_description(getattr(meta, "description", None))
            if description:
                self.telemetry.set_attributes(
                    parent_id, {semconv.GEN_AI_TOOL_DESCRIPTION: description}
                )
            if len(self.tool_calls) < MAX_OPEN:
                self.tool_calls[id_] = parent_id
            self.spans.hide(id_, parent_id)
            return
        meta = getattr(instance, "metadata", None)
        call_args = dict(args)
        call_args.update(call_args.pop("kwargs", None) or {})
        call_args.pop("args", None)
        op = m.tool_operation(
            str(getattr(meta, "name", None) or type(instance).__name__),
            None,
            call_args,
            getattr(meta, "description", None),
        )
        self.spans.start(id_, Role.TOOL, op, parent_id, True)

    def enter_workflow(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None, tags: Any
    ) -> None:
        classifier = self.classifier
        builtin = classifier.is_builtin_workflow(instance)
        agent = classifier.agent_of(instance)
        agents = None
        if agent is not None:
            op = m.agent_operation(agent)
        else:
            run_id = tags.get(_RUN_ID_TAG) if isinstance(tags, dict) else None
            op = m.workflow_operation(
                classifier.user_class_name(instance),
                {semconv.RUN_ID: run_id} if run_id else None,
            )
            agents = getattr(instance, "agents", None)
            agents = agents if builtin and isinstance(agents, dict) else None
        # The in-task run span (workflows >= 2) enters and exits in one task: activate it.
        # An older ``Workflow.run`` returns a future and exits elsewhere: never activate.
        run = WorkflowRun(builtin, agents)
        self.spans.start(id_, Role.WORKFLOW_RUN, op, parent_id, "init_state" in args, run)

    def step(
        self, id_: str, args: Mapping[str, Any], parent_id: str, run: WorkflowRun, tags: Any
    ) -> None:
        """A dispatcher span of a step of the open workflow run ``parent_id``."""
        head, step = split_span_id(id_)
        ev = args.get("ev")
        owner = parent_id
        if run.agents is not None:
            owner = self._agent_turn(parent_id, run, getattr(ev, "current_agent_name", None))
        if (  # the agent's call_tool step: its input is a ToolCall (not a ToolCallResult)
            ev is not None
            and hasattr(ev, "tool_id")
            and hasattr(ev, "tool_name")
            and not hasattr(ev, "tool_output")
        ):
            op = m.tool_operation(str(ev.tool_name), ev.tool_id, getattr(ev, "tool_kwargs", None))
            self.spans.start(id_, Role.TOOL, op, owner, True)
            return
        if (run.builtin or step[:1] == "_") and not self.spans.verbose:
            # built-in agent plumbing, and the framework's own ``_done`` step (older cores)
            self.spans.hide(id_, owner)
            return
        attrs: dict[str, Any] = {semconv.WORKFLOW_STEP: step}
        tags = tags if isinstance(tags, dict) else {}
        input_event = tags.get(_INPUT_EVENT_TAG)
        if not input_event and ev is not None:  # older cores tag nothing: the event's class
            input_event = type(ev).__name__
        if input_event:
            attrs[semconv.WORKFLOW_STEP_INPUT_EVENT] = str(input_event)
        if tags.get(_RUN_ID_TAG):
            attrs[semconv.RUN_ID] = str(tags[_RUN_ID_TAG])
        op = m.step_operation(head, "workflow_step", attributes=attrs)
        self.spans.start(id_, Role.NOISE, op, owner, True)

    def _agent_turn(self, workflow_id: str, run: WorkflowRun, name: Any) -> str:
        """The run the step belongs to: the current agent's span (a new one when the step's
        input names another agent: a handoff), else the workflow's."""
        if isinstance(name, str) and name != run.name and run.agents is not None:
            self._end_turn(run, None)
            agent = run.agents.get(name)
            run.name = name
            if agent is not None:
                run.count += 1
                span_id = f"{workflow_id}#agent-{run.count}"
                self.telemetry.start(span_id, m.agent_operation(agent), parent_run_id=workflow_id)
                run.span_id = span_id
        return run.span_id or workflow_id

    def _end_turn(self, run: WorkflowRun, err: BaseException | None) -> None:
        span_id = run.span_id
        if span_id is not None:
            run.span_id = None
            self.spans.finish(span_id, err)

    def end_workflow(self, run: Any, err: BaseException | None) -> None:
        """The workflow run ends: so does the turn of the agent it was in."""
        if isinstance(run, WorkflowRun) and run.agents is not None:
            self._end_turn(run, err)

    def exit_tool(self, id_: str, result: Any) -> Outcome | None:
        """The tool's outcome, or ``None`` once the span was failed with the tool's error."""
        outcome, error = m.tool_outcome(result)
        raised = self.tool_errors.pop(id_, None)
        if error == semconv.ERROR_TYPE_TOOL_ERROR and raised is not None:
            error = raised
        if error is not None:
            self.telemetry.fail(id_, error, outcome=outcome)
            return None
        return outcome

    def drop_tool_call(self, id_: str, err: BaseException | None) -> None:
        tool_span = self.tool_calls.pop(id_, None)
        if tool_span is not None and err is not None and len(self.tool_errors) < MAX_OPEN:
            self.tool_errors[tool_span] = err
        self.tool_errors.pop(id_, None)
