"""What a dispatcher span stands for, from its instance's class and method name (cached).

The dispatcher wraps public and ``_private`` methods alike; only a few of them are operations
worth a span. Everything else is structural noise that is collapsed into its nearest traced
ancestor (unless the verbose setting is on).
"""

from __future__ import annotations

import enum
import threading
from typing import Any


class Role(enum.IntEnum):
    """What a dispatcher span stands for."""

    NOISE = 0  # no span of its own (a STEP span in verbose mode)
    LLM = 1  # chat/complete: one inference span, started by the LLM start event
    LLM_STREAM = 2  # stream_chat/stream_complete (and async)
    QUERY = 3
    SYNTHESIZE = 4
    CHAT_ENGINE = 5
    RETRIEVE = 6
    TOOL = 7
    WORKFLOW_RUN = 8


_LLM_METHODS = {"chat": Role.LLM, "achat": Role.LLM, "complete": Role.LLM, "acomplete": Role.LLM}
# A structured predict is one model call whose answer is then validated: a call of its own (the
# model call inside it is nested), so a validation error fails its span.
STRUCTURED_PREDICT = frozenset({"structured_predict", "astructured_predict"})
_LLM_METHODS.update(dict.fromkeys(STRUCTURED_PREDICT, Role.LLM))
_STREAM_METHODS = {"stream_chat", "astream_chat", "stream_complete", "astream_complete"}
_QUERY_METHODS = {"query", "aquery"}
_SYNTH_METHODS = {"synthesize", "asynthesize"}
_CHAT_ENGINE_METHODS = {"chat", "achat", "stream_chat", "astream_chat"}
_RETRIEVE_METHODS = {"retrieve", "aretrieve"}
_TOOL_METHODS = {"call", "acall", "__call__"}
_PIPELINE_METHODS = {"run", "arun"}

_FRAMEWORK_MODULES = ("llama_index.", "workflows.", "llama_agents.")


class _Bases:
    """LlamaIndex base classes, imported on first use (never at module import)."""

    def __init__(self) -> None:
        from llama_index.core.base.base_query_engine import BaseQueryEngine
        from llama_index.core.base.base_retriever import BaseRetriever
        from llama_index.core.base.llms.base import BaseLLM
        from llama_index.core.chat_engine.types import BaseChatEngine
        from llama_index.core.response_synthesizers.base import BaseSynthesizer
        from llama_index.core.tools.types import BaseTool

        self.llm: type[Any] = BaseLLM
        self.query: type[Any] = BaseQueryEngine
        self.retriever: type[Any] = BaseRetriever
        self.synth: type[Any] = BaseSynthesizer
        self.chat_engine: type[Any] = BaseChatEngine
        self.tool: type[Any] = BaseTool
        self.workflow: type[Any] | None = None
        self.agents: tuple[type[Any], ...] = ()
        self.agent_workflow: type[Any] | None = None
        self.pipeline: type[Any] | None = None
        try:
            from llama_index.core.ingestion import IngestionPipeline

            self.pipeline = IngestionPipeline
        except ImportError:  # pragma: no cover - core without an ingestion pipeline
            pass
        try:
            from llama_index.core.workflow import Workflow

            self.workflow = Workflow
        except ImportError:  # pragma: no cover - very old core
            pass
        try:
            from llama_index.core.agent.workflow import AgentWorkflow, BaseWorkflowAgent

            self.agents = (BaseWorkflowAgent,)
            self.agent_workflow = AgentWorkflow
        except ImportError:  # pragma: no cover - core without workflow agents
            pass


class Classifier:
    """A dispatcher span's :class:`Role` from its instance's class and method (cached)."""

    def __init__(self) -> None:
        self._bases: _Bases | None = None
        self._cache: dict[tuple[type[Any], str], Role] = {}
        self._lock = threading.Lock()

    @property
    def bases(self) -> _Bases:
        if self._bases is None:
            self._bases = _Bases()
        return self._bases

    def role(self, instance: Any, method: str) -> Role:
        key = (type(instance), method)
        role = self._cache.get(key)
        if role is None:
            role = self._classify(instance, method)
            with self._lock:
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[key] = role
        return role

    def _classify(self, instance: Any, method: str) -> Role:
        b = self.bases
        if isinstance(instance, b.llm):
            if method in _STREAM_METHODS:
                return Role.LLM_STREAM
            return _LLM_METHODS.get(method, Role.NOISE)
        if isinstance(instance, b.query):
            return Role.QUERY if method in _QUERY_METHODS else Role.NOISE
        if isinstance(instance, b.retriever):
            return Role.RETRIEVE if method in _RETRIEVE_METHODS else Role.NOISE
        if isinstance(instance, b.synth):
            return Role.SYNTHESIZE if method in _SYNTH_METHODS else Role.NOISE
        if isinstance(instance, b.chat_engine):
            return Role.CHAT_ENGINE if method in _CHAT_ENGINE_METHODS else Role.NOISE
        if isinstance(instance, b.tool):
            return Role.TOOL if method in _TOOL_METHODS else Role.NOISE
        if b.workflow is not None and isinstance(instance, b.workflow) and method == "run":
            return Role.WORKFLOW_RUN
        return Role.NOISE

    def runs_pipeline(self, instance: Any, method: str) -> bool:
        """An ``IngestionPipeline.run``/``arun``: each transformation may call a model (an
        extractor's LLM, the embedding model), and no operation of its own spans them."""
        if method not in _PIPELINE_METHODS:
            return False
        pipeline = self.bases.pipeline
        return pipeline is not None and isinstance(instance, pipeline)

    def is_agent(self, workflow: Any) -> bool:
        return bool(self.bases.agents) and isinstance(workflow, self.bases.agents)

    def is_workflow(self, obj: Any) -> bool:
        return self.bases.workflow is not None and isinstance(obj, self.bases.workflow)

    def agent_of(self, workflow: Any) -> Any | None:
        """The agent a workflow run stands for: the workflow itself when it is an agent, else
        the only agent of a single-agent ``AgentWorkflow`` (older cores run ``agent.run()``
        as ``AgentWorkflow(agents=[agent])``); ``None`` for any other workflow."""
        if self.is_agent(workflow):
            return workflow
        b = self.bases
        if b.agent_workflow is not None and isinstance(workflow, b.agent_workflow):
            agents = getattr(workflow, "agents", None)
            if isinstance(agents, dict) and len(agents) == 1:
                return next(iter(agents.values()))
        return None

    def is_builtin_workflow(self, workflow: Any) -> bool:
        """Built-in agent workflows: their steps are plumbing, not the user's logic."""
        b = self.bases
        if self.is_agent(workflow):
            return True
        return b.agent_workflow is not None and isinstance(workflow, b.agent_workflow)

    @staticmethod
    def user_class_name(obj: Any) -> str | None:
        """The class name when the class is the user's own (not a framework class)."""
        cls = type(obj)
        if cls.__module__.startswith(_FRAMEWORK_MODULES):
            return None
        return cls.__name__


def split_span_id(id_: str) -> tuple[str, str]:
    """``"Class.method-<uuid>"`` -> ``("Class.method", "method")``."""
    head = id_.split("-", 1)[0]
    return head, head.rpartition(".")[2]
