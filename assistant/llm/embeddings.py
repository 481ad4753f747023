"""A LangChain ``Embeddings`` over the service's text encoder (MiniLM, or the hashing one in tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from retrieval import Encoder

if TYPE_CHECKING:
    from assistant.runtime import Runtime

__all__ = ["ShopAssistEmbeddings"]


class ShopAssistEmbeddings(Embeddings):
    """The catalog's own vector space for LangChain vector stores and chains: documents and queries
    are encoded exactly as the hybrid index encodes products and searches (unit-length vectors)."""

    def __init__(self, encoder: Encoder, *, batch_size: int = 64) -> None:
        self.encoder = encoder
        self.batch_size = batch_size

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> ShopAssistEmbeddings:
        return cls(runtime.encoder)

    @property
    def dim(self) -> int:
        return int(self.encoder.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.encoder.encode(list(texts), batch_size=self.batch_size)
        return [[float(x) for x in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encoder.encode_query(text)]
