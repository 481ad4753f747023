"""The package surface: exported names, and no heavy imports at import time."""

from __future__ import annotations

import subprocess
import sys

import assistant.nlu as nlu


def test_exported_members() -> None:
    assert sorted(nlu.__all__) == sorted(set(nlu.__all__))
    for name in nlu.__all__:
        assert hasattr(nlu, name), name
    for name in (
        "NLUModel",
        "NLUResult",
        "train_nlu",
        "evaluate_nlu",
        "CatalogVocabulary",
        "vocabulary_from_products",
        "normalize_spoken",
    ):
        assert name in nlu.__all__


def test_nlu_result_fields() -> None:
    r = nlu.NLUResult(intent="greet", confidence=0.9, unclear=False)
    assert set(r.to_json()) == {"intent", "confidence", "unclear", "slots", "tokens", "tags", "latency_ms"}


def test_importing_the_package_does_not_load_torch() -> None:
    code = (
        "import sys, assistant.nlu, api.cli.nlu; print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
