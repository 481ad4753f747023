"""Singular and plural of product types ("sofas" -> "sofa", "dresses" -> "dress", jeans stay jeans)."""

from __future__ import annotations

__all__ = ["PLURALIA_TANTUM", "singularize", "pluralize"]

#: nouns that are plural in form and name one thing: never singularised
PLURALIA_TANTUM = frozenset(
    {
        "jeans",
        "shorts",
        "trousers",
        "pants",
        "sweatpants",
        "leggings",
        "tights",
        "pajamas",
        "pyjamas",
        "overalls",
        "dungarees",
        "chinos",
        "joggers",
        "jeggings",
        "culottes",
        "capris",
        "briefs",
        "boxers",
        "trunks",
        "panties",
        "knickers",
        "sunglasses",
        "glasses",
        "eyeglasses",
        "goggles",
        "scissors",
        "tongs",
        "pliers",
        "headphones",
        "earphones",
        "earbuds",
        "binoculars",
        "clothes",
        "sweats",
        "slacks",
        "bloomers",
        "cargos",
        "khakis",
        "tweezers",
        "clippers",
        "shears",
        "suspenders",
        "news",
        "series",
        "species",
        "cosmetics",
        "electronics",
        "toiletries",
    }
)

# irregular plurals and the -ves/-oes/-ies words a suffix rule gets wrong
_IRREGULAR_PLURAL = {
    "knife": "knives",
    "shelf": "shelves",
    "scarf": "scarves",
    "wolf": "wolves",
    "leaf": "leaves",
    "loaf": "loaves",
    "half": "halves",
    "life": "lives",
    "wife": "wives",
    "thief": "thieves",
    "man": "men",
    "woman": "women",
    "child": "children",
    "foot": "feet",
    "tooth": "teeth",
    "goose": "geese",
    "mouse": "mice",
    "person": "people",
    "cactus": "cacti",
    "potato": "potatoes",
    "tomato": "tomatoes",
    "hero": "heroes",
    "echo": "echoes",
    "bookshelf": "bookshelves",
    "tv": "tvs",
    "pc": "pcs",
    "lens": "lenses",
    "stylus": "styluses",
    "gps": "gps",
}
# -ie nouns whose plural -ies must not become -y
_IE_WORDS = frozenset(
    {
        "hoodie",
        "beanie",
        "onesie",
        "scrunchie",
        "cookie",
        "movie",
        "brownie",
        "selfie",
        "smoothie",
        "pixie",
        "bootie",
        "necktie",
        "lingerie",
        "talkie",
        "walkie",
        "kiltie",
        "goalie",
        "bustier",
        "rookie",
        "sortie",
        "calorie",
        "zombie",
        "tie",
        "pie",
        "koozie",
        "beastie",
        "boogie",
        "indie",
        "veggie",
        "birdie",
        "gillie",
        "bikie",
        "nightie",
        "cami",
        "hippie",
        "techie",
        "auntie",
        "bestie",
        "cutie",
        "genie",
        "mountie",
    }
)
_IRREGULAR_SINGULAR = {v: k for k, v in _IRREGULAR_PLURAL.items()}
# words ending in -s / -ss / -us / -is that are singular already
_SINGULAR_S = frozenset(
    {
        "dress",
        "glass",
        "mattress",
        "bus",
        "canvas",
        "lens",
        "compass",
        "harness",
        "chess",
        "bikini",
        "boss",
        "cross",
        "hibiscus",
        "iris",
        "cactus",
        "atlas",
        "bonus",
        "campus",
        "chorus",
        "octopus",
        "walrus",
        "asparagus",
        "citrus",
        "virus",
        "plus",
        "gas",
        "bias",
        "lotus",
        "fitness",
        "wellness",
        "press",
        "cutlass",
        "mascara",
        "status",
        "abacus",
        "hummus",
        "jus",
        "oasis",
        "basis",
        "axis",
        "tennis",
        "chassis",
        "pilates",
        "crocs",
        "vans",
        "converse",
        "chanel",
    }
)
# -oes words whose singular ends in -oe, not -o
_OE_WORDS = frozenset({"shoes", "toes", "canoes", "hoes", "oboes", "horseshoes", "tiptoes"})


def _singular_word(word: str) -> str:
    w = word
    low = w.lower()
    if low in _IRREGULAR_SINGULAR:
        return _IRREGULAR_SINGULAR[low]
    if low in PLURALIA_TANTUM or low in _SINGULAR_S or len(low) <= 2:
        return w
    if low.endswith("ies") and (low[:-1] in _IE_WORDS or len(low) <= 4):
        return w[:-1]
    if low.endswith("ies") and low[-4] not in "aeiou":
        return w[:-3] + "y"
    if low.endswith("oes"):
        if low in _OE_WORDS or low.endswith("shoes"):
            return w[:-1]
        return w[:-2]
    if low.endswith(("sses", "xes", "zes", "ches", "shes")):
        return w[:-2]
    if low.endswith(("ss", "us")):
        return w
    if low.endswith("s") and not low.endswith("'s"):
        return w[:-1]
    return w


def singularize(phrase: str) -> str:
    """The singular of a product type: its last word singularised ("coffee tables" -> "coffee table")."""
    phrase = phrase.strip()
    if not phrase:
        return phrase
    if phrase.lower() in PLURALIA_TANTUM:
        return phrase
    head, sep, last = phrase.rpartition(" ")
    if head and last.lower() == "glasses":  # "wine glasses", but "glasses" alone are eyeglasses
        return head + sep + last[:-2]
    if "-" in last and not last.endswith("-"):
        h2, _, l2 = last.rpartition("-")
        return head + sep + h2 + "-" + _singular_word(l2)
    return head + sep + _singular_word(last)


def _plural_word(word: str) -> str:
    low = word.lower()
    if low in PLURALIA_TANTUM:
        return word
    if low in _IRREGULAR_PLURAL:
        return _IRREGULAR_PLURAL[low]
    if low.endswith("ie") and low in _IE_WORDS:
        return word + "s"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return word[:-1] + "ies"
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def pluralize(phrase: str) -> str:
    """The plural of a (singular) product type: "coffee table" -> "coffee tables"."""
    phrase = phrase.strip()
    if not phrase or phrase.lower() in PLURALIA_TANTUM:
        return phrase
    head, sep, last = phrase.rpartition(" ")
    if "-" in last and not last.endswith("-"):
        h2, _, l2 = last.rpartition("-")
        return head + sep + h2 + "-" + _plural_word(l2)
    return head + sep + _plural_word(last)
