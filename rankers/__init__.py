"""Search re-ranker and sequential recommender (SASRec-style), their training and evaluation."""

from rankers._rerank import FORMAT_VERSION as RERANK_FORMAT_VERSION
from rankers._rerank import Reranker
from rankers._rerank_data import generate_catalog_queries, train_catalog_reranker
from rankers._rerank_features import FEATURES as RERANK_FEATURES
from rankers._rerank_features import BaseScores, CandidateScores, FieldVocabulary
from rankers._rerank_train import TrainingQuery, queries_from_feedback, train_reranker
from rankers.sequential import (
    MODEL_DEFAULTS,
    SequentialConfig,
    SequentialRecommender,
    evaluate_full_ranking,
    metrics_from_ranks,
    read_sequences,
    target_ranks,
    train_sequential,
)

__all__ = [
    "RERANK_FEATURES",
    "RERANK_FORMAT_VERSION",
    "BaseScores",
    "CandidateScores",
    "FieldVocabulary",
    "Reranker",
    "TrainingQuery",
    "generate_catalog_queries",
    "queries_from_feedback",
    "train_catalog_reranker",
    "train_reranker",
    "MODEL_DEFAULTS",
    "SequentialConfig",
    "SequentialRecommender",
    "evaluate_full_ranking",
    "metrics_from_ranks",
    "read_sequences",
    "target_ranks",
    "train_sequential",
]
