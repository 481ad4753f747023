"""A LangChain retriever over the hybrid search (BM25 + vectors + filters, then the re-ranker)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from assistant.llm.tools import product_data
from assistant.products import explain_hit, ranked_search
from retrieval import HybridIndex, SearchFilters

if TYPE_CHECKING:
    from assistant.runtime import Runtime

__all__ = ["ShopAssistRetriever"]


class ShopAssistRetriever(BaseRetriever):
    """Products as ``Document``\\ s: ``page_content`` is the title and description, ``metadata`` the
    product's fields (id, price, brand, attributes, …) with its ``score`` and ``why``.

    ``filters`` (a :class:`~retrieval.SearchFilters` or a dict of its fields) apply to every query;
    ``retriever.invoke("grey sofa", filters={"price_max": 800}, k=3)`` narrows one call.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: HybridIndex
    reranker: Callable[[], Any] | None = Field(default=None, description="returns the re-ranker or None")
    filters: SearchFilters = Field(default_factory=SearchFilters)
    k: int = Field(default=5, ge=1, le=100)
    sort: Literal["relevance", "price_asc", "price_desc", "rating_desc"] = "relevance"

    @classmethod
    def from_runtime(cls, runtime: Runtime, **kwargs: Any) -> ShopAssistRetriever:
        return cls(index=runtime.index, reranker=lambda: runtime.reranker, **kwargs)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        k: int | None = None,
    ) -> list[Document]:
        merged = self.filters.model_dump(exclude_none=True)
        if filters is not None:
            extra = filters.active() if isinstance(filters, SearchFilters) else dict(filters)
            merged.update({key: v for key, v in extra.items() if v is not None})
        search_filters = SearchFilters.model_validate(merged)
        self.index.reload_if_changed()
        result, personal = ranked_search(
            self.index,
            query,
            search_filters,
            sort=self.sort,
            limit=k or self.k,
            reranker=self.reranker() if self.reranker is not None else None,
        )
        docs = []
        for hit in result.hits:
            p = hit.product
            why = personal.get(p.id) or explain_hit(hit, search_filters, query)
            text = f"{p.title}\n\n{p.description}".strip()
            docs.append(
                Document(page_content=text, id=p.id, metadata=product_data(p, score=hit.score, why=why))
            )
        return docs
