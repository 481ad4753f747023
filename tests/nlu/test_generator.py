"""The training data generator: deterministic, covers the schema, agrees with the normaliser."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.nlu import INTENTS, SLOTS, CatalogVocabulary, ExampleGenerator, Lexicon, split_holdout
from assistant.nlu._normalize import assemble_slots
from assistant.nlu._schema import TAG_SLOTS
from assistant.nlu._sources import align_slots, load_bitext, load_labelled
from assistant.nlu._spans import resolve_spans
from assistant.nlu._text import split_words
from assistant.nlu._vocab import vocabulary_from_products
from retrieval._schema import Product

CATALOG = CatalogVocabulary(
    product_types=("Tshirts", "Casual Shoes", "Kurtas", "Handbags"),
    brands=("Puma", "Wildcraft", "U.S. Polo Assn."),
    colors=("Navy Blue", "Black", "Olive"),
    sizes=("S", "M", "XL"),
    genders=("men", "women"),
)


def _gen(seed: int, **kw: object) -> ExampleGenerator:
    _, held = split_holdout(keep=CATALOG)
    return ExampleGenerator(CATALOG, seed=seed, holdout=held, **kw)  # type: ignore[arg-type]


def test_same_seed_same_data() -> None:
    a = [(e.text, e.intent, e.tags, e.slots) for e in _gen(7).generate(400)]
    b = [(e.text, e.intent, e.tags, e.slots) for e in _gen(7).generate(400)]
    c = [(e.text, e.intent, e.tags, e.slots) for e in _gen(8).generate(400)]
    assert a == b
    assert a != c


def test_every_intent_and_slot_is_generated() -> None:
    examples = _gen(0).generate(3000)
    intents = Counter(e.intent for e in examples)
    assert set(intents) == set(INTENTS)
    assert min(intents.values()) >= 20
    slots = {s for e in examples for s in e.slots}
    assert slots == set(SLOTS)
    tagged = {t[2:] for e in examples for t in e.tags if t != "O"}
    assert tagged == set(TAG_SLOTS)


def test_tags_line_up_with_the_words() -> None:
    for e in _gen(1).generate(500):
        assert e.tokens == [w.text for w in split_words(e.text)]
        assert len(e.tags) == len(e.tokens)
        for prev, tag in zip(["O", *e.tags], e.tags, strict=False):
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:], (e.text, e.tags)


def test_normaliser_reads_back_the_gold_slots() -> None:
    """Without noise, normalising the tagged spans gives exactly the generator's gold slots."""
    lex = Lexicon.default(CATALOG)
    bad = []
    for e in _gen(3, noise=0.0, spoken_share=0.3).generate(2500):
        words = split_words(e.text)
        spans: list[tuple[str, int, int]] = []
        for w, tag in zip(words, e.tags, strict=True):
            if tag.startswith("B-"):
                spans.append((tag[2:], w.start, w.end))
            elif tag.startswith("I-"):
                spans[-1] = (spans[-1][0], spans[-1][1], w.end)
        spans = resolve_spans(e.text, spans, lex, intent=e.intent)
        got = assemble_slots(((s, e.text[a:b]) for s, a, b in spans), lex)
        norm = {k: v.lower() if isinstance(v, str) else v for k, v in got.items()}
        gold = {k: v.lower() if isinstance(v, str) else v for k, v in e.slots.items()}
        if e.intent not in {"add_to_cart", "remove_from_cart"}:
            gold.pop("quantity", None)
            norm.pop("quantity", None)
        if norm != gold:
            bad.append((e.text, gold, norm))
    assert len(bad) <= 5, bad[:5]


def test_held_out_vocabulary_never_reaches_training() -> None:
    _, held = split_holdout(keep=CATALOG)
    assert held.product_types and held.brands and held.colors and held.materials
    seen: Counter[str] = Counter()
    for e in _gen(2).generate(3000):
        for slot, pool in (
            ("product_type", held.product_types),
            ("brand", held.brands),
            ("color", held.colors),
            ("material", held.materials),
        ):
            if e.slots.get(slot) in set(pool) and e.slots.get(slot) not in _catalog_values(slot):
                seen[slot] += 1
    assert not seen


def _catalog_values(slot: str) -> set[str]:
    return {
        "product_type": set(CATALOG.product_types),
        "brand": set(CATALOG.brands),
        "color": set(CATALOG.colors),
        "material": set(CATALOG.materials),
    }[slot]


def test_held_out_slice_uses_only_held_out_words() -> None:
    _, held = split_holdout(keep=CATALOG)
    gen = ExampleGenerator(None, seed=5, only=held)
    examples = gen.generate(300, weights={"search": 1.0})
    types = {e.slots["product_type"] for e in examples if "product_type" in e.slots}
    assert types and types <= set(held.product_types)


def test_vocabulary_from_products() -> None:
    products = [
        Product(
            id="1",
            title="Grey Sofa",
            product_type="Sofas",
            brand="IKEA",
            price=499,
            attributes={"color": "Grey", "material": "Linen", "gender": "Unisex", "size": "S, M"},
        ),
        Product(
            id="2",
            title="Red dress",
            product_type="dresses",
            brand="Zara",
            price=59,
            attributes={"color": "red"},
        ),
    ]
    v = vocabulary_from_products(products)
    assert v.product_types == ("sofa", "dress")
    assert v.brands == ("ikea", "zara")
    assert v.colors == ("grey", "red")
    assert v.materials == ("linen",)
    assert v.sizes == ("s", "m")
    assert v.genders == ("unisex",)


def test_align_staff_labels_to_words() -> None:
    tags = align_slots(
        "show me grey sofas under $800", {"color": "grey", "product_type": "sofa", "price_max": 800}
    )
    assert tags == ["O", "O", "B-color", "B-product_type", "O", "B-price_max", "I-price_max"]
    assert align_slots("compare 1 and 3", {"ordinal": [1, 3]}) == ["O", "B-ordinal", "O", "B-ordinal"]
    assert align_slots("show me sofas", {"color": "red"}) is None


def test_load_labelled_and_bitext(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        '{"text": "add two of the first one", "intent": "add_to_cart", '
        '"slots": {"quantity": 2, "ordinal": [1]}}\n'
        '{"text": "blue ones", "intent": "refine", "slots": {"color": "navy"}}\n',
        encoding="utf-8",
    )
    got = load_labelled(labels)
    assert [e.tags for e in got] == [["O", "B-quantity", "O", "O", "B-ordinal", "O"], []]
    bitext = tmp_path / "bitext.csv"
    bitext.write_text(
        "flags,utterance,category,intent\n"
        "B,where is my order,ORDER,track_order\n"
        "B,i want to talk to an agent,CONTACT,contact_human_agent\n"
        "B,how do i get a refund,REFUND,get_refund\n",
        encoding="utf-8",
    )
    rows = load_bitext(bitext)
    assert sorted((e.intent, e.text) for e in rows) == [
        ("human_handoff", "i want to talk to an agent"),
        ("order_status", "where is my order"),
    ]
    assert all(set(e.tags) == {"O"} for e in rows)


@pytest.mark.parametrize("intent", INTENTS)
def test_each_intent_has_varied_phrasings(intent: str) -> None:
    gen = _gen(11)
    texts = {gen.example(intent).text.lower() for _ in range(60)}
    assert len(texts) >= 15
