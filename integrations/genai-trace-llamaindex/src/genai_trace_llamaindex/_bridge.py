"""Dispatcher spans and events -> core Telemetry calls (the state behind the dispatcher handlers).

Keys: a dispatcher span that gets a span of ours is a core run keyed by its dispatcher span id;
structural spans are core *links* (no span; their children nest under the nearest traced
ancestor). Model calls are started by the LLM/embedding/rerank *start events*, which carry the
payload LlamaIndex already built (``model_dict``, messages), so we never serialise the model:

* chat/completion: keyed by the dispatcher span id of the outermost chat/complete method; an
  inner chat/complete span (CustomLLM ``chat`` -> ``complete``) is ignored, so one model call is
  one inference span and its usage is counted once. Ended by the end event (streams: after the
  last chunk, whatever the order of span exit and end event), failed by the span drop or an
  ``ExceptionEvent``; ``GeneratorExit``/cancellation end it without error.
* embeddings/rerank: keyed by ``(span id, tag, n)``, parented by the (linked) method span.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Hashable, Mapping
from typing import Any

from genai_trace_core import Outcome, Telemetry, semconv
from genai_trace_llamaindex import _mapping as m
from genai_trace_llamaindex._classify import Classifier, Role, split_span_id
from genai_trace_llamaindex._streaming import end_when_collected, reparent_stream

_RUN_ID_TAG = "llamaindex.run_id"
_INPUT_EVENT_TAG = "llamaindex.step.input_event"
_NESTED = object()
_CANCELLED: tuple[type[BaseException], ...] = (GeneratorExit, asyncio.CancelledError)
_MAX_OPEN = 100_000  # our own bookkeeping is bounded too: a runaway never grows memory


def is_cancellation(err: BaseException | None) -> bool:
    return isinstance(err, _CANCELLED) or type(err).__name__ == "WorkflowCancelledByUser"


class _LLMSpan:
    __slots__ = ("instance", "parent_id", "stream")

    def __init__(self, instance: Any, parent_id: str | None, stream: bool) -> None:
        self.instance = instance
        self.parent_id = parent_id
        self.stream = stream


class Bridge:
    def __init__(self, telemetry: Telemetry, *, verbose: bool = False) -> None:
        self.telemetry = telemetry
        self.verbose = verbose
        self.classifier = Classifier()
        self._open: dict[str, Role] = {}  # dispatcher spans that have a span of ours
        self._llm: dict[str, Any] = {}  # open chat/complete method spans -> _LLMSpan | _NESTED
        self._streams: set[str] = set()  # streaming inference runs not yet ended
        self._workflows: dict[str, bool] = {}  # open workflow runs -> built-in agent workflow?
        self._pending: dict[tuple[str, str], deque[tuple[Hashable, list[str]]]] = {}
        # FunctionTool.call spans linked into the agent's call_tool span -> that span's id, and
        # the exception such a call raised (older cores keep it out of the ToolOutput)
        self._tool_calls: dict[str, str] = {}
        self._tool_errors: dict[str, BaseException] = {}
        self._seq = itertools.count(1)

    # --- dispatcher spans --------------------------------------------------------------------

    def enter(
        self, id_: str, args: Mapping[str, Any], instance: Any, parent_id: str | None, tags: Any
    ) -> None:
        tel = self.telemetry
        if instance is None:
            if parent_id is not None and parent_id in self._workflows:
                self._step(id_, args, parent_id, tags)
            elif self.verbose:
                self._verbose(id_, parent_id)
            else:
                tel.link(id_, parent_run_id=parent_id)
            return
        head, method = split_span_id(id_)
        role = self.classifier.role(instance, method)
        if role is not Role.NOISE:
            # Named after the instance's class (older cores name the span after the class that
            # defines the method, e.g. ``BaseQueryEngine``); aquery -> query: one name.
            short = method[1:] if method[0] == "a" and role is not Role.TOOL else method
            head = f"{type(instance).__name__}.{short}"
        if role is Role.NOISE:
            if (
                parent_id is not None
                and parent_id in self._workflows
                and self.classifier.is_workflow(instance)  # older cores: steps are bound methods
            ):
                self._step(id_, args, parent_id, tags)
                return
            if self.verbose:
                self._verbose(id_, parent_id)
            else:
                tel.link(id_, parent_run_id=parent_id)
            return
        if role is Role.LLM or role is Role.LLM_STREAM:
            llm = self._llm
            if parent_id is not None and parent_id in llm:
                llm[id_] = _NESTED
                if self.verbose:
                    self._verbose(id_, parent_id)
            elif len(llm) < _MAX_OPEN:
                llm[id_] = _LLMSpan(instance, parent_id, role is Role.LLM_STREAM)
            return
        op = None
        activate = True
        if role is Role.QUERY:
            op = m.step_operation(head, "query", query=args.get("str_or_query_bundle"))
        elif role is Role.RETRIEVE:
            op = m.retrieval_operation(instance, args.get("str_or_query_bundle"))
        elif role is Role.SYNTHESIZE:
            nodes = args.get("nodes")
            op = m.step_operation(
                head,
                "synthesize",
                query=args.get("query"),
                attributes={semconv.DOCUMENT_COUNT: len(nodes)}
                if isinstance(nodes, list)
                else None,
            )
        elif role is Role.CHAT_ENGINE:
            op = m.step_operation(head, "chat_engine", query=args.get("message"))
        elif role is Role.TOOL:
            parent_role = self._open.get(parent_id) if parent_id is not None else None
            if parent_role is Role.TOOL:  # FunctionTool.acall under the agent's call_tool step
                description = getattr(getattr(instance, "metadata", None), "description", None)
                if description:
                    tel.set_attributes(parent_id, {semconv.GEN_AI_TOOL_DESCRIPTION: description})
                if parent_id is not None and len(self._tool_calls) < _MAX_OPEN:
                    self._tool_calls[id_] = parent_id
                tel.link(id_, parent_run_id=parent_id)
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
        elif role is Role.WORKFLOW_RUN:
            builtin = self.classifier.is_builtin_workflow(instance)
            agent = self.classifier.agent_of(instance)
            if agent is not None:
                op = m.agent_operation(agent)
            else:
                run_id = tags.get(_RUN_ID_TAG) if isinstance(tags, dict) else None
                op = m.workflow_operation(
                    self.classifier.user_class_name(instance),
                    {semconv.RUN_ID: run_id} if run_id else None,
                )
            # The in-task run span (workflows >= 2) enters and exits in one task: activate it.
            # An older ``Workflow.run`` returns a future and exits elsewhere: never activate.
            activate = "init_state" in args
            if len(self._workflows) < _MAX_OPEN:
                self._workflows[id_] = builtin
        if op is not None:
            self._start(id_, role, op, parent_id, activate)

    def _start(self, id_: str, role: Role, op: Any, parent_id: str | None, activate: bool) -> None:
        if len(self._open) < _MAX_OPEN:
            self._open[id_] = role
        self.telemetry.start(id_, op, parent_run_id=parent_id, activate=activate)

    def _verbose(self, id_: str, parent_id: str | None) -> None:
        head, _ = split_span_id(id_)
        self._start(id_, Role.NOISE, m.step_operation(head, "llama_index.span"), parent_id, True)

    def _step(self, id_: str, args: Mapping[str, Any], parent_id: str, tags: Any) -> None:
        head, step = split_span_id(id_)
        ev = args.get("ev")
        if (  # the agent's call_tool step: its input is a ToolCall (not a ToolCallResult)
            ev is not None
            and hasattr(ev, "tool_id")
            and hasattr(ev, "tool_name")
            and not hasattr(ev, "tool_output")
        ):
            op = m.tool_operation(str(ev.tool_name), ev.tool_id, getattr(ev, "tool_kwargs", None))
            self._start(id_, Role.TOOL, op, parent_id, True)
            return
        if (self._workflows.get(parent_id) or step[:1] == "_") and not self.verbose:
            # built-in agent plumbing, and the framework's own ``_done`` step (older cores)
            self.telemetry.link(id_, parent_run_id=parent_id)
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
        self._start(
            id_,
            Role.NOISE,
            m.step_operation(head, "workflow_step", attributes=attrs),
            parent_id,
            True,
        )

    def exit(self, id_: str, result: Any) -> None:
        tel = self.telemetry
        llm = self._llm.pop(id_, None)
        if llm is not None:
            if llm is _NESTED:
                if self.verbose:
                    tel.end(id_)
            elif llm.stream:
                if id_ in self._streams:
                    end_when_collected(result, lambda: self._end_stream(id_, None))
            else:
                tel.end(id_)  # normally already ended by the end event
            return
        self._end_pending(id_, None)
        if self._tool_calls:
            self._tool_calls.pop(id_, None)
        role = self._open.pop(id_, None)
        if role is None:
            tel.end(id_)  # a link
            return
        outcome: Outcome | None = None
        if role is Role.RETRIEVE:
            outcome = Outcome(documents=m.documents(result, tel.capture_content))
        elif role is Role.TOOL:
            outcome, error = m.tool_outcome(result)
            raised = self._tool_errors.pop(id_, None)
            if error == semconv.ERROR_TYPE_TOOL_ERROR and raised is not None:
                error = raised
            if error is not None:
                tel.fail(id_, error, outcome=outcome)
                return
        elif role is Role.WORKFLOW_RUN:
            self._workflows.pop(id_, None)
        elif role is not Role.NOISE and hasattr(result, "response_gen"):
            reparent_stream(result, tel.context_of(id_))
            outcome = m.DEFERRED_STREAM
        tel.end(id_, outcome)

    def drop(self, id_: str, err: BaseException | None) -> None:
        tel = self.telemetry
        tool_span = self._tool_calls.pop(id_, None)
        if tool_span is not None and err is not None and len(self._tool_errors) < _MAX_OPEN:
            self._tool_errors[tool_span] = err
        self._tool_errors.pop(id_, None)
        self._end_pending(id_, err)
        self._open.pop(id_, None)
        self._workflows.pop(id_, None)
        if self._llm.pop(id_, None) is not None:
            self._streams.discard(id_)
        if err is None or is_cancellation(err):
            tel.end(id_)
        else:
            tel.fail(id_, err)

    def _end_pending(self, id_: str, err: BaseException | None) -> None:
        if not self._pending:
            return
        for tag in ("emb", "rerank"):
            queue = self._pending.pop((id_, tag), None)
            while queue:
                key, _ = queue.popleft()
                if err is None or is_cancellation(err):
                    self.telemetry.end(key)
                else:
                    self.telemetry.fail(key, err)

    # --- events ----------------------------------------------------------------------------

    def llm_start(self, event: Any, chat: bool) -> None:
        span_id = event.span_id
        info = self._llm.get(span_id)
        if info is _NESTED:
            return
        stream = info.stream if info is not None else False
        op = m.llm_operation(
            chat=chat,
            model_dict=getattr(event, "model_dict", None),
            instance=info.instance if info is not None else None,
            messages=getattr(event, "messages", None),
            prompt=getattr(event, "prompt", None),
            additional_kwargs=getattr(event, "additional_kwargs", None),
            stream=stream,
        )
        if stream:
            self._streams.add(span_id)
        self.telemetry.start(
            span_id,
            op,
            parent_run_id=info.parent_id if info is not None else None,
            activate=not stream,
        )

    def llm_chunk(self, event: Any) -> None:
        self.telemetry.chunk(event.span_id)

    def llm_end(self, event: Any) -> None:
        span_id = event.span_id
        if not self.telemetry.is_open(span_id):
            return
        self._streams.discard(span_id)
        self.telemetry.end(span_id, m.llm_outcome(event.response))

    def exception(self, event: Any) -> None:
        span_id = event.span_id
        if span_id in self._streams:
            self._end_stream(span_id, event.exception)

    def _end_stream(self, span_id: str, err: BaseException | None) -> None:
        self._streams.discard(span_id)
        if err is None or is_cancellation(err):
            self.telemetry.end(span_id)
        else:
            self.telemetry.fail(span_id, err)

    def embedding_start(self, event: Any) -> None:
        texts: list[str] = []
        key = (event.span_id, "emb", next(self._seq))
        op = m.embeddings_operation(getattr(event, "model_dict", None), None, lambda: texts)
        self._push(event.span_id, "emb", key, texts)
        self.telemetry.start(key, op, parent_run_id=event.span_id, activate=True)

    def embedding_end(self, event: Any) -> None:
        item = self._pop(event.span_id, "emb")
        if item is None:
            return
        key, texts = item
        chunks = getattr(event, "chunks", None)
        if chunks:
            texts.extend(str(c) for c in chunks)
        self.telemetry.end(key, m.embeddings_outcome(chunks, getattr(event, "embeddings", None)))

    def rerank_start(self, event: Any) -> None:
        key = (event.span_id, "rerank", next(self._seq))
        op = m.rerank_operation(
            getattr(event, "model_name", None),
            getattr(event, "top_n", None),
            getattr(event, "nodes", None),
            getattr(event, "query", None),
        )
        self._push(event.span_id, "rerank", key, [])
        self.telemetry.start(key, op, parent_run_id=event.span_id, activate=True)

    def rerank_end(self, event: Any) -> None:
        item = self._pop(event.span_id, "rerank")
        if item is not None:
            nodes = getattr(event, "nodes", None)
            attrs = {semconv.DOCUMENT_COUNT: len(nodes)} if isinstance(nodes, list) else None
            self.telemetry.end(item[0], Outcome(attributes=attrs))

    def _push(self, span_id: str, tag: str, key: Hashable, box: list[str]) -> None:
        queue = self._pending.get((span_id, tag))
        if queue is None:
            if len(self._pending) >= _MAX_OPEN:
                self._pending.clear()
            queue = self._pending[(span_id, tag)] = deque()
        queue.append((key, box))

    def _pop(self, span_id: str, tag: str) -> tuple[Hashable, list[str]] | None:
        queue = self._pending.get((span_id, tag))
        if not queue:
            return None
        item = queue.popleft()
        if not queue:
            del self._pending[(span_id, tag)]
        return item

    def shutdown(self) -> None:
        self._open.clear()
        self._llm.clear()
        self._streams.clear()
        self._workflows.clear()
        self._pending.clear()
        self._tool_calls.clear()
        self._tool_errors.clear()
        self.telemetry.shutdown()
