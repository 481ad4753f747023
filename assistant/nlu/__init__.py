"""Natural-language understanding: intent + slots of a shopper's message (DESIGN.md, "NLU schema").

``NLUModel.load(path).parse(text)`` -> :class:`NLUResult`; ``train_nlu`` fine-tunes the joint
MiniLM model on generated data and writes a versioned artifact; ``evaluate_nlu`` measures a
model on an eval-format JSONL file; ``normalize_spoken`` rewrites voice transcripts.
"""

from assistant.nlu._evaluate import (
    EvalFormatError,
    count_slot_matches,
    evaluate_examples,
    evaluate_nlu,
    read_eval_file,
    slot_f1,
    values_match,
)
from assistant.nlu._generator import ExampleGenerator, generate_examples
from assistant.nlu._model import NLUModel, NLUModelError, NLUResult
from assistant.nlu._normalize import Lexicon, assemble_slots, normalize_spoken, normalize_value
from assistant.nlu._numbers import number_to_words, parse_number
from assistant.nlu._schema import INTENTS, SLOTS, TAGS, Example
from assistant.nlu._train import train_nlu
from assistant.nlu._vocab import (
    CatalogVocabulary,
    builtin_vocabulary,
    split_holdout,
    vocabulary_from_catalog_file,
    vocabulary_from_products,
)

__all__ = [
    "INTENTS",
    "SLOTS",
    "TAGS",
    "CatalogVocabulary",
    "EvalFormatError",
    "Example",
    "ExampleGenerator",
    "Lexicon",
    "NLUModel",
    "NLUModelError",
    "NLUResult",
    "assemble_slots",
    "builtin_vocabulary",
    "count_slot_matches",
    "evaluate_examples",
    "evaluate_nlu",
    "generate_examples",
    "normalize_spoken",
    "normalize_value",
    "number_to_words",
    "parse_number",
    "read_eval_file",
    "slot_f1",
    "split_holdout",
    "train_nlu",
    "values_match",
    "vocabulary_from_catalog_file",
    "vocabulary_from_products",
]
