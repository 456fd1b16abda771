"""A retriever that takes 0.3 s in async code: for the tests of calls cut short or cancelled."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

ANSWER = "Parcel 42 left the warehouse."


class SlowRetriever(BaseRetriever):
    """Answers ``ANSWER`` after 0.3 s, async only."""

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        raise NotImplementedError

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        await asyncio.sleep(0.3)
        return [Document(page_content=ANSWER)]
