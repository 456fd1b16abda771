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

from genai_trace_core import Outcome, semconv
from genai_trace_llamaindex import _mapping as m
from genai_trace_llamaindex._base import MAX_OPEN, AgentTurns, BridgeState, is_cancellation
from genai_trace_llamaindex._classify import Role, split_span_id

_RUN_ID_TAG = "llamaindex.run_id"
_INPUT_EVENT_TAG = "llamaindex.step.input_event"


class AgentEvents(BridgeState):
    def _enter_tool(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None
    ) -> None:
        parent_role = self._open.get(parent_id) if parent_id is not None else None
        if parent_role is Role.TOOL and parent_id is not None:
            # FunctionTool.acall under the agent's call_tool step: that span is the tool span
            description = getattr(getattr(instance, "metadata", None), "description", None)
            if description:
                self.telemetry.set_attributes(
                    parent_id, {semconv.GEN_AI_TOOL_DESCRIPTION: description}
                )
            if len(self._tool_calls) < MAX_OPEN:
                self._tool_calls[id_] = parent_id
            self.hide(id_, parent_id)
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
        self._start(id_, Role.TOOL, op, parent_id, True)

    def _enter_workflow(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None, tags: Any
    ) -> None:
        classifier = self.classifier
        builtin = classifier.is_builtin_workflow(instance)
        agent = classifier.agent_of(instance)
        if agent is not None:
            op = m.agent_operation(agent)
        else:
            run_id = tags.get(_RUN_ID_TAG) if isinstance(tags, dict) else None
            op = m.workflow_operation(
                classifier.user_class_name(instance),
                {semconv.RUN_ID: run_id} if run_id else None,
            )
            agents = getattr(instance, "agents", None)
            if builtin and isinstance(agents, dict) and len(self._turns) < MAX_OPEN:
                self._turns[id_] = AgentTurns(agents)
        if len(self._workflows) < MAX_OPEN:
            self._workflows[id_] = builtin
        # The in-task run span (workflows >= 2) enters and exits in one task: activate it.
        # An older ``Workflow.run`` returns a future and exits elsewhere: never activate.
        self._start(id_, Role.WORKFLOW_RUN, op, parent_id, "init_state" in args)

    def _step(self, id_: str, args: Mapping[str, Any], parent_id: str, tags: Any) -> None:
        head, step = split_span_id(id_)
        ev = args.get("ev")
        owner = parent_id
        turns = self._turns.get(parent_id) if self._turns else None
        if turns is not None:
            owner = self._agent_turn(parent_id, turns, getattr(ev, "current_agent_name", None))
        if (  # the agent's call_tool step: its input is a ToolCall (not a ToolCallResult)
            ev is not None
            and hasattr(ev, "tool_id")
            and hasattr(ev, "tool_name")
            and not hasattr(ev, "tool_output")
        ):
            op = m.tool_operation(str(ev.tool_name), ev.tool_id, getattr(ev, "tool_kwargs", None))
            self._start(id_, Role.TOOL, op, owner, True)
            return
        if (self._workflows.get(parent_id) or step[:1] == "_") and not self.verbose:
            # built-in agent plumbing, and the framework's own ``_done`` step (older cores)
            self.hide(id_, owner)
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
        self._start(id_, Role.NOISE, op, owner, True)

    def _agent_turn(self, workflow_id: str, turns: AgentTurns, name: Any) -> str:
        """The run the step belongs to: the current agent's span (a new one when the step's
        input names another agent: a handoff), else the workflow's."""
        if isinstance(name, str) and name != turns.name:
            self._end_turn(turns, None)
            agent = turns.agents.get(name)
            turns.name = name
            if agent is not None:
                turns.count += 1
                span_id = f"{workflow_id}#agent-{turns.count}"
                self.telemetry.start(span_id, m.agent_operation(agent), parent_run_id=workflow_id)
                turns.span_id = span_id
        return turns.span_id or workflow_id

    def _end_turn(self, turns: AgentTurns, err: BaseException | None) -> None:
        span_id = turns.span_id
        if span_id is None:
            return
        turns.span_id = None
        if err is None or is_cancellation(err):
            self.telemetry.end(span_id)
        else:
            self.telemetry.fail(span_id, err)

    def _end_workflow(self, id_: str, err: BaseException | None) -> None:
        self._workflows.pop(id_, None)
        turns = self._turns.pop(id_, None) if self._turns else None
        if turns is not None:
            self._end_turn(turns, err)

    def _exit_tool(self, id_: str, result: Any) -> Outcome | None:
        """The tool's outcome, or ``None`` once the span was failed with the tool's error."""
        outcome, error = m.tool_outcome(result)
        raised = self._tool_errors.pop(id_, None)
        if error == semconv.ERROR_TYPE_TOOL_ERROR and raised is not None:
            error = raised
        if error is not None:
            self.telemetry.fail(id_, error, outcome=outcome)
            return None
        return outcome

    def _drop_tool_call(self, id_: str, err: BaseException | None) -> None:
        tool_span = self._tool_calls.pop(id_, None)
        if tool_span is not None and err is not None and len(self._tool_errors) < MAX_OPEN:
            self._tool_errors[tool_span] = err
        self._tool_errors.pop(id_, None)
