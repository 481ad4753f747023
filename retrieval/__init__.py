"""Product schema, catalog readers, text encoders and hybrid search (BM25 + Chroma vectors + filters)."""

from retrieval._chroma import ShopAssistEmbeddingFunction, open_chroma_client
from retrieval._encoder import Encoder, HashingEncoder, MiniLMEncoder, make_encoder, minilm_model_path
from retrieval._fusion import FUSIONS, blend, rrf
from retrieval._index import MODES, Candidate, Hit, HybridIndex, ProductNotIndexed, SearchResult
from retrieval._schema import (
    ATTRIBUTE_FILTERS,
    FILTER_FIELDS,
    SORTS,
    Product,
    SearchFilters,
    category_matches,
    normalize_category,
    normalize_text_value,
)

__all__ = [
    "ATTRIBUTE_FILTERS",
    "FILTER_FIELDS",
    "FUSIONS",
    "MODES",
    "SORTS",
    "Encoder",
    "HashingEncoder",
    "Candidate",
    "Hit",
    "HybridIndex",
    "MiniLMEncoder",
    "Product",
    "ProductNotIndexed",
    "SearchFilters",
    "SearchResult",
    "ShopAssistEmbeddingFunction",
    "blend",
    "category_matches",
    "make_encoder",
    "minilm_model_path",
    "normalize_category",
    "normalize_text_value",
    "open_chroma_client",
    "rrf",
]
