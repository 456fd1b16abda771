"""Model calls on the dispatcher path: chat/completion, embeddings and rerank.

* chat/completion: keyed by the dispatcher span id of the outermost chat/complete method; an
  inner chat/complete span (CustomLLM ``chat`` -> ``complete``) is ignored, so one model call is
  one inference span and its usage is counted once. Started by the LLM *start event* (it carries
  the payload LlamaIndex already built: ``model_dict``, messages, so we never serialise the
  model); ended by the end event (streams: after the last chunk, whatever the order of span exit
  and end event), failed by the span drop or an ``ExceptionEvent``; ``GeneratorExit`` and
  cancellation end it without error. It is current from start to end, streams included: their
  request runs when the caller first reads the stream, so provider spans nest under ours (and
  see its provider suppression); core undoes the activation at the end, close or collection.
* embeddings/rerank: keyed by ``(span id, tag, n)``, parented by the (hidden) method span.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Any

from genai_trace_core import Outcome, semconv
from genai_trace_llamaindex import _mapping as m
from genai_trace_llamaindex._base import MAX_OPEN, NESTED, BridgeState, LLMSpan, is_cancellation
from genai_trace_llamaindex._classify import Role
from genai_trace_llamaindex._streaming import end_when_collected


class ModelEvents(BridgeState):
    # --- dispatcher spans of LLM methods ---------------------------------------------------

    def _enter_llm(self, id_: str, instance: Any, parent_id: str | None, role: Role) -> None:
        llm = self._llm
        if type(instance).__name__ == "StructuredLLM":  # llm.as_structured_llm(cls)
            self.structured(id_)
        if parent_id is not None and parent_id in llm:
            llm[id_] = NESTED
            if self.verbose:
                self._verbose(id_, parent_id)
        elif len(llm) < MAX_OPEN:
            llm[id_] = LLMSpan(instance, parent_id, role is Role.LLM_STREAM)

    def _exit_llm(self, id_: str, llm: Any, result: Any) -> None:
        if llm is NESTED:
            if self.verbose:
                self.telemetry.end(id_)
        elif llm.stream:
            if id_ in self._streams:
                end_when_collected(result, lambda: self._end_stream(id_, None))
        else:
            self.telemetry.end(id_)  # normally already ended by the end event

    def structured(self, span_id: str) -> None:
        """``span_id`` and the spans it opens produce structured (JSON) output."""
        if len(self._structured) < MAX_OPEN:
            self._structured.add(span_id)

    # --- events ----------------------------------------------------------------------------

    def structured_start(self, event: Any) -> None:
        self.structured(event.span_id)

    def llm_start(self, event: Any, chat: bool) -> None:
        span_id = event.span_id
        info = self._llm.get(span_id)
        if info is NESTED:
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
            output_type=m.OUTPUT_JSON if self._structured and span_id in self._structured else None,
        )
        if stream:
            self._streams.add(span_id)
        self.telemetry.start(
            span_id,
            op,
            parent_run_id=self.parent(info.parent_id) if info is not None else None,
            activate=True,
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
        self.telemetry.start(key, op, parent_run_id=self.parent(event.span_id), activate=True)

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
        self.telemetry.start(key, op, parent_run_id=self.parent(event.span_id), activate=True)

    def rerank_end(self, event: Any) -> None:
        item = self._pop(event.span_id, "rerank")
        if item is not None:
            nodes = getattr(event, "nodes", None)
            attrs = {semconv.DOCUMENT_COUNT: len(nodes)} if isinstance(nodes, list) else None
            self.telemetry.end(item[0], Outcome(attributes=attrs))

    def _push(self, span_id: str, tag: str, key: Hashable, box: list[str]) -> None:
        queue = self._pending.get((span_id, tag))
        if queue is None:
            if len(self._pending) >= MAX_OPEN:
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
