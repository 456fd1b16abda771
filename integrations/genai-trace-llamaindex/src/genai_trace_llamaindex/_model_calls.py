"""Model calls on the dispatcher path: chat/completion, embeddings and rerank.

* chat/completion: keyed by the dispatcher span id of the outermost chat/complete method. A
  chat/complete call made inside another one (any dispatcher spans in between: CustomLLM
  ``chat`` -> ``complete``, ``StructuredLLM.chat`` -> ``structured_predict`` -> the wrapped
  model's ``chat``; or by a step of its open stream) is *nested*: no span of its own, its
  response folded into the outer call's (see :class:`Fold`), so one model call is one
  inference span, in one trace, its usage counted once. The outer span is the one kept: it
  started first (an OTel span cannot be taken back). Started by the LLM *start event* (it carries
  the payload LlamaIndex already built: ``model_dict``, messages, so we never serialise the
  model); ended by the end event (streams: after the last chunk, whatever the order of span exit
  and end event), failed by the span drop or an ``ExceptionEvent``; ``GeneratorExit`` and
  cancellation end it without error. It is current from start to end, streams included: their
  request runs when the caller first reads the stream, so provider spans nest under ours (and
  see its provider suppression); core undoes the activation at the end, close or collection,
  and, where the stream was started inside another span of ours, when that span ends: a stream
  read in another thread (``SimpleChatEngine``'s history thread) never stays current here.
* embeddings/rerank: keyed by ``(span id, tag, n)``, parented by the (hidden) method span.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Hashable
from typing import Any

from genai_trace_core import Outcome
from genai_trace_llamaindex import _map_models as mm
from genai_trace_llamaindex import _map_steps as ms
from genai_trace_llamaindex._classify import STRUCTURED_PREDICT, Role, split_span_id
from genai_trace_llamaindex._folds import Fold
from genai_trace_llamaindex._index import MAX_OPEN, OpenSpans
from genai_trace_llamaindex._streaming import OpenStreams, end_when_collected

LLM_ROLES = (Role.LLM, Role.LLM_STREAM)
NESTED = object()  # an inner chat/complete call of an outer one: no span of its own


class LLMSpan:
    """What the start event of a chat/complete method span needs from its ``span_enter``."""

    __slots__ = ("instance", "parent_id")

    def __init__(self, instance: Any, parent_id: str | None) -> None:
        self.instance = instance
        self.parent_id = parent_id


class ModelCalls:
    """The model-call part of the bridge: LLM method spans and the LLM, embedding and rerank
    events, over the bridge's index of open spans."""

    def __init__(self, spans: OpenSpans) -> None:
        self.spans = spans
        self.telemetry = spans.telemetry
        # dispatcher spans inside a structured predict (or a StructuredLLM call): JSON output
        self.structured: set[str] = set()
        self.streams = OpenStreams()  # streaming inference runs not yet ended
        # a stream's finish reasons, seen on a chunk before the last (usage-only) one
        self.stream_finish: dict[str, list[str]] = {}
        self.servers: dict[str, str] = {}  # embedding method spans: the model's api_base
        self.pending: dict[tuple[str, str], deque[tuple[Hashable, list[str]]]] = {}
        self._seq = itertools.count(1)
        # open dispatcher spans inside a model call (the call's own span included) -> that
        # call's span id (the innermost one): the bridge carries it down to every child span
        self.within: dict[str, str] = {}
        self.nested: dict[str, str] = {}  # nested call span id -> the call it is nested in
        self.folds: dict[str, Fold] = {}  # call span id -> what its nested calls reported
        self.unstarted: set[str] = set()  # structured predicts: no start event of their own
        self.adopted: set[str] = set()  # overrides started by their inner call: its chunks theirs

    # --- dispatcher spans of LLM methods ---------------------------------------------------

    def enter(self, id_: str, role: Role, instance: Any, parent_id: str | None) -> None:
        predict = split_span_id(id_)[1] in STRUCTURED_PREDICT
        if type(instance).__name__ == "StructuredLLM":  # llm.as_structured_llm(cls)
            self.mark_structured(id_)
            instance = getattr(instance, "llm", instance)  # the model that answers (its server)
        spans, within = self.spans, self.within
        outer = within.get(parent_id) if within and parent_id is not None else None
        if outer is None and self.streams:
            outer = self.streams.producer()  # a call made by a step of an open stream
        if predict:
            if outer is not None:  # inside a model call (StructuredLLM.chat): a step of it
                spans.structural(id_, parent_id)
                return
            # a call of its own, with no start event: its first nested call's starts it
            self.mark_structured(id_)
            if len(self.unstarted) < MAX_OPEN:
                self.unstarted.add(id_)
        if outer is None:
            spans.add(id_, role, LLMSpan(instance, parent_id))
        else:
            if len(self.nested) >= MAX_OPEN:
                self.nested.clear()
            self.nested[id_] = outer
            if spans.verbose:
                spans.structural(id_, parent_id, NESTED)
            else:
                spans.add(id_, role, NESTED)
        if len(within) < MAX_OPEN:
            within[id_] = id_

    def exit(self, id_: str, role: Role, info: Any, result: Any) -> None:
        if info is NESTED:
            if role is Role.LLM_STREAM:  # its end event comes when the stream is read
                end_when_collected(result, lambda: self.forget(id_))
            else:
                self.forget(id_)  # normally already gone with the end event
        elif role is Role.LLM_STREAM:
            if id_ in self.streams:
                self.streams.returned(id_, result)
                end_when_collected(result, lambda: self._end_stream(id_, None))
        else:
            # normally already ended by the end event; a structured predict has none: it ends
            # here, with what its nested call reported
            self.telemetry.end(id_, self.forget(id_))

    def mark_structured(self, span_id: str | None) -> None:
        """``span_id`` and the spans it opens produce structured (JSON) output. ``None`` (a
        structured stream's start event fires when the stream is read, outside its span) would
        mark every span without a parent: ignored."""
        if span_id is not None and len(self.structured) < MAX_OPEN:
            self.structured.add(span_id)

    def forget(self, id_: str) -> Outcome | None:
        """A model call is over: drop what was kept for it; return what its nested calls
        reported (a call that fails after them, e.g. parsing a structured answer, still
        carries the usage, response model and id that came back), else ``None``."""
        if self.nested:
            self.nested.pop(id_, None)
        if self.unstarted:
            self.unstarted.discard(id_)
        if self.adopted:
            self.adopted.discard(id_)
        fold = self.folds.pop(id_, None) if self.folds else None
        return fold.over(Outcome()) if fold is not None else None

    def _fold(self, outer: str, outcome: Outcome) -> None:
        fold = self.folds.get(outer)
        if fold is None:
            if len(self.folds) >= MAX_OPEN:
                self.folds.clear()
            fold = self.folds[outer] = Fold()
        fold.add(outcome)

    # --- events ----------------------------------------------------------------------------

    def structured_start(self, event: Any) -> None:
        self.mark_structured(event.span_id)

    def chat_start(self, event: Any) -> None:
        self._start(event, True)

    def completion_start(self, event: Any) -> None:
        self._start(event, False)

    def _start(self, event: Any, chat: bool) -> None:
        span_id = event.span_id
        outer = self.nested.get(span_id) if self.nested else None
        for _ in range(8):  # the outermost call (a nested call may sit in another nested one)
            if outer is None or outer not in self.nested:
                break
            outer = self.nested[outer]
        if outer is not None:
            if outer not in self.unstarted and self.telemetry.is_open(outer):
                return
            # no start event of its own: a structured predict, or a user's undecorated override
            if outer in self.unstarted:
                self.unstarted.discard(outer)
            elif len(self.adopted) < MAX_OPEN:
                self.adopted.add(outer)
            span_id = outer
        entry = self.spans.entries.get(span_id)
        info = entry[1] if entry is not None else None
        if not isinstance(info, LLMSpan):
            info = None
        stream = info is not None and entry is not None and entry[0] is Role.LLM_STREAM
        op = mm.llm_operation(
            chat=chat,
            model_dict=getattr(event, "model_dict", None),
            instance=info.instance if info is not None else None,
            # a chat event has no prompt, a completion event no messages: a pydantic model
            # raises inside for a missing name, so each is read only where it can be
            messages=getattr(event, "messages", None) if chat else None,
            prompt=None if chat else getattr(event, "prompt", None),
            additional_kwargs=getattr(event, "additional_kwargs", None),
            stream=stream,
            output_type=mm.OUTPUT_JSON if self.structured and span_id in self.structured else None,
        )
        parent_id = info.parent_id if info is not None else None
        # no parent reported: a framework root, never nested under another one still current
        # here (a stream not yet read to its end while the app makes another model call)
        self.telemetry.start(
            span_id, op, parent_run_id=parent_id, activate=True, root=parent_id is None
        )
        if stream:  # its request runs when it is first read: under this activation
            self.streams.add(span_id, parent_id, self.telemetry.context_of(span_id))

    def chunk(self, event: Any) -> None:
        span_id = event.span_id
        if self.adopted and self.nested.get(span_id) in self.adopted:
            span_id = self.nested[span_id]
        self.telemetry.chunk(span_id)
        reasons = mm.chunk_finish_reasons(getattr(event, "response", None))
        if reasons and (span_id in self.stream_finish or len(self.stream_finish) < MAX_OPEN):
            self.stream_finish[span_id] = reasons

    def end(self, event: Any) -> None:
        span_id = event.span_id
        reasons = self.stream_finish.pop(span_id, None)
        fold = self.folds.pop(span_id, None) if self.folds else None
        outer = self.nested.pop(span_id, None) if self.nested else None
        if outer is not None:  # a nested call: its response goes to the call it is in
            outcome = mm.llm_outcome(event.response, reasons)
            self._fold(outer, fold.over(outcome) if fold is not None else outcome)
            return
        if not self.telemetry.is_open(span_id):
            return
        self.streams.discard(span_id)
        outcome = mm.llm_outcome(event.response, reasons)
        self.telemetry.end(span_id, fold.over(outcome) if fold is not None else outcome)

    def exception(self, event: Any) -> None:
        span_id = event.span_id
        if span_id in self.streams:
            self._end_stream(span_id, event.exception)
        elif self.nested:
            self.forget(span_id)

    def _end_stream(self, span_id: str, err: BaseException | None) -> None:
        self.streams.discard(span_id)
        self.stream_finish.pop(span_id, None)
        self.spans.finish(span_id, err, self.forget(span_id))

    def note_server(self, id_: str, instance: Any) -> None:
        """An embedding method span: remember the model's base URL for its start event."""
        base = getattr(instance, "api_base", None)
        if isinstance(base, str) and len(self.servers) < MAX_OPEN:
            self.servers[id_] = base

    def embedding_start(self, event: Any) -> None:
        texts: list[str] = []
        base = self.servers.get(event.span_id) if self.servers else None
        op = mm.embeddings_operation(getattr(event, "model_dict", None), None, lambda: texts, base)
        self._push(event.span_id, "emb", op, texts)

    def embedding_end(self, event: Any) -> None:
        item = self._pop(event.span_id, "emb")
        if item is None:
            return
        key, texts = item
        chunks = getattr(event, "chunks", None)
        if chunks:
            texts.extend(str(c) for c in chunks)
        self.telemetry.end(key, mm.embeddings_outcome(chunks, getattr(event, "embeddings", None)))

    def rerank_start(self, event: Any) -> None:
        op = ms.rerank_operation(
            getattr(event, "model_name", None),
            getattr(event, "top_n", None),
            getattr(event, "nodes", None),
            getattr(event, "query", None),
        )
        self._push(event.span_id, "rerank", op, [])

    def rerank_end(self, event: Any) -> None:
        item = self._pop(event.span_id, "rerank")
        if item is not None:
            attrs = ms.document_count(getattr(event, "nodes", None))
            self.telemetry.end(item[0], Outcome(attributes=attrs))

    def _push(self, span_id: str, tag: str, op: Any, box: list[str]) -> None:
        """Start the event's run under its (hidden) method span, queued for its end event."""
        key = (span_id, tag, next(self._seq))
        queue = self.pending.get((span_id, tag))
        if queue is None:
            if len(self.pending) >= MAX_OPEN:
                self.pending.clear()
            queue = self.pending[(span_id, tag)] = deque()
        queue.append((key, box))
        self.telemetry.start(key, op, parent_run_id=span_id, activate=True)

    def _pop(self, span_id: str, tag: str) -> tuple[Hashable, list[str]] | None:
        queue = self.pending.get((span_id, tag))
        if not queue:
            return None
        item = queue.popleft()
        if not queue:
            del self.pending[(span_id, tag)]
        return item

    def end_pending(self, id_: str, err: BaseException | None) -> None:
        """End the embedding/rerank runs still open when their method span ends."""
        for tag in ("emb", "rerank"):
            queue = self.pending.pop((id_, tag), None)
            while queue:
                key, _ = queue.popleft()
                self.spans.finish(key, err)
