"""Build the bundled demo catalog (``data/demo``) from the Myntra fashion photos.

Usage::

    .venv/bin/python scripts/build_demo_catalog.py --source /work/shared/data --out data/demo

Reads ``<source>/fashion-small`` (labels + 60x80 photos of 7,500 products, 30 article
types) and ``<source>/fashion-priced`` (100 products with real INR prices and a
``brandName`` column), and writes:

* ``<out>/catalog.jsonl``: one product per line, fields as in DESIGN.md "Catalog files";
* ``<out>/images/<id>.jpg``: the product photos, re-encoded (RGB, JPEG q88, no metadata);
* ``<out>/catalog.meta.json``: provenance, seed and the price model.

The output is a pure function of the inputs and ``--seed``: products are picked with
a seeded greedy that prefers variety of colour, gender and brand inside each article
type, and every generated value (price, rating, stock) comes from a random stream
keyed by ``(seed, product id)``, so it does not move when the selection changes.
Descriptions are built from the source labels only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

DEFAULT_SEED = 20240611
DEFAULT_PER_TYPE = 67
DEFAULT_INR_PER_USD = 83.0
JPEG_QUALITY = 88
IMAGE_SIZE = (60, 80)
IN_STOCK_RATE = 0.95
RATING_MEAN = 4.1
#: the labels use "NA" for "not known"
MISSING = {"", "NA", "N/A", "NULL", "NONE"}

#: articleType -> product_type (lower-case singular noun phrase)
PRODUCT_TYPES: dict[str, str] = {
    "Backpacks": "backpack",
    "Belts": "belt",
    "Bra": "bra",
    "Briefs": "briefs",
    "Casual Shoes": "casual shoe",
    "Deodorant": "deodorant",
    "Dresses": "dress",
    "Earrings": "earrings",
    "Flats": "flats",
    "Flip Flops": "flip flops",
    "Formal Shoes": "formal shoe",
    "Handbags": "handbag",
    "Heels": "heels",
    "Jeans": "jeans",
    "Kurtas": "kurta",
    "Lipstick": "lipstick",
    "Nail Polish": "nail polish",
    "Perfume and Body Mist": "perfume",
    "Sandals": "sandal",
    "Sarees": "saree",
    "Shirts": "shirt",
    "Shorts": "shorts",
    "Socks": "socks",
    "Sports Shoes": "sports shoe",
    "Sunglasses": "sunglasses",
    "Tops": "top",
    "Trousers": "trousers",
    "Tshirts": "t-shirt",
    "Wallets": "wallet",
    "Watches": "watch",
}

#: hand-set plausible US retail ranges (USD, inclusive) per articleType; the spread
#: inside a range is calibrated on the real INR prices (see ``calibrate_prices``)
PRICE_RANGES_USD: dict[str, tuple[float, float]] = {
    "Backpacks": (20, 120),
    "Belts": (10, 60),
    "Bra": (8, 45),
    "Briefs": (5, 25),
    "Casual Shoes": (25, 150),
    "Deodorant": (3, 15),
    "Dresses": (8, 120),
    "Earrings": (5, 60),
    "Flats": (15, 80),
    "Flip Flops": (5, 40),
    "Formal Shoes": (40, 200),
    "Handbags": (20, 250),
    "Heels": (25, 150),
    "Jeans": (20, 120),
    "Kurtas": (10, 80),
    "Lipstick": (4, 40),
    "Nail Polish": (3, 20),
    "Perfume and Body Mist": (20, 120),
    "Sandals": (12, 90),
    "Sarees": (25, 250),
    "Shirts": (15, 90),
    "Shorts": (8, 40),
    "Socks": (5, 15),
    "Sports Shoes": (25, 150),
    "Sunglasses": (15, 200),
    "Tops": (10, 60),
    "Trousers": (20, 100),
    "Tshirts": (5, 45),
    "Wallets": (10, 80),
    "Watches": (20, 400),
}

GENDER_WORDS = frozenset({"Men", "Women", "Unisex", "Boys", "Girls", "Kids", "Boy", "Girl"})
GENDERS = {"Men": "men", "Women": "women", "Boys": "boys", "Girls": "girls", "Unisex": "unisex"}
#: a brand seen this often before a gender word is trusted as a brand on its own
MIN_BRAND_COUNT = 3
#: colour words that never continue a brand ("Royal Diadem White ...", "Red Tape Black Men ...")
COLOUR_WORDS = frozenset(
    {
        "beige", "black", "blue", "brown", "cream", "gold", "golden", "green", "grey", "maroon", "multi",
        "navy", "olive", "orange", "pink", "purple", "red", "silver", "tan", "white", "yellow",
    }
)  # fmt: skip
MAX_BRAND_WORDS = 3
#: rarer (articleType, gender) pairs are treated as label errors
MIN_GENDER_COUNT = 3
#: a trusted brand this many times as common as its extension absorbs it
PARENT_BRAND_RATIO = 5
#: a name prefix grows by a word while this share of names with it continue alike
PREFIX_SHARE = 0.8
#: product types whose label colour describes the packaging, not the product
NO_COLOUR_IN_DESCRIPTION = frozenset({"perfume", "deodorant"})

SOURCE_TEXT = (
    "Myntra 'Fashion Product Images (Small)' (Kaggle listing by Param Aggarwal, "
    "kaggle.com/datasets/paramaggarwal/fashion-product-images-small): labels and 60x80 photos"
)
LICENCE_TEXT = (
    "MIT (as recorded for the Kaggle listing; labels from an MIT-licensed repository). "
    "Prices, ratings, rating counts, stock flags and descriptions are generated here."
)


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True)
class SourceRow:
    """One labelled product of ``fashion-small/catalog.csv``."""

    id: str
    gender: str
    master_category: str
    sub_category: str
    article_type: str
    colour: str
    season: str
    year: str
    usage: str
    title: str
    image: str
    width: int
    height: int


@dataclass(frozen=True)
class PriceModel:
    """Truncated log-normal over ``[low, high]`` (USD)."""

    low: float
    high: float
    median: float
    sigma: float

    def as_json(self) -> dict[str, float]:
        return {
            "min": self.low,
            "max": self.high,
            "median": round(self.median, 2),
            "sigma": round(self.sigma, 3),
        }


@dataclass(frozen=True)
class PriceCalibration:
    """Real prices (converted to USD) of one article type in ``fashion-priced``."""

    n: int
    min_usd: float
    median_usd: float
    max_usd: float
    log_sd: float
    share_in_range: float | None

    def as_json(self) -> dict[str, float | int | None]:
        return {
            "n": self.n,
            "min_usd": round(self.min_usd, 2),
            "median_usd": round(self.median_usd, 2),
            "max_usd": round(self.max_usd, 2),
            "log_sd": round(self.log_sd, 3),
            "share_in_range": None if self.share_in_range is None else round(self.share_in_range, 3),
        }


# ----------------------------------------------------------------------------- reading
def clean(value: str) -> str:
    """Collapse whitespace; map the "NA" placeholders to an empty string."""
    text = " ".join(value.split())
    return "" if text.upper() in MISSING else text


def read_catalog(path: Path) -> list[SourceRow]:
    """Read ``fashion-small/catalog.csv``."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            SourceRow(
                id=row["id"].strip(),
                gender=clean(row["gender"]),
                master_category=clean(row["masterCategory"]),
                sub_category=clean(row["subCategory"]),
                article_type=clean(row["articleType"]),
                colour=clean(row["baseColour"]),
                season=clean(row["season"]),
                year=clean(row["year"]),
                usage=clean(row["usage"]),
                title=clean(row["productDisplayName"]),
                image=row["image"].strip(),
                width=int(row["width"] or 0),
                height=int(row["height"] or 0),
            )
            for row in csv.DictReader(fh)
        ]


def read_display_names(path: Path) -> list[str]:
    """Product names of ``styles_all.csv`` (names may hold commas: split 9 times)."""
    names: list[str] = []
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            parts = line.rstrip("\r\n").split(",", 9)
            if len(parts) == 10:
                names.append(clean(parts[9]))
    return names


def read_priced(path: Path) -> list[dict[str, str]]:
    """Read ``fashion-priced/catalog.csv`` (real INR prices and brand names)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ----------------------------------------------------------------------------- brands
def brand_before_gender(title: str) -> str | None:
    """The words before the first gender word ("Men", "Women's", "Mens", "Kids", ...), if any.

    A gender word opening the name is part of the brand ("Kids Ville Girls ...").
    """
    words = title.split()
    for i, word in enumerate(words[1:], start=1):
        if word in GENDER_WORDS or re.sub(r"(['\u2019]s|s)$", "", word) in GENDER_WORDS:
            return " ".join(words[:i])
    return None


def fold_brand(text: str) -> str:
    """Spelling-insensitive key: "Levi's" = "Levis", "Inc. 5" = "Inc.5", "Ray-Ban" = "Rayban"."""
    return re.sub(r"[^0-9a-z]", "", text.lower().replace("&", "and"))


class BrandVocabulary:
    """Brands learnt from all product names of the label file.

    Names with a gender word give trusted brands (the words before it, seen at least
    ``MIN_BRAND_COUNT`` times, spellings folded together) and their usual spelling;
    names without one give the word-prefix counts used to tell a multi-word brand
    ("Royal Diadem") from a product line ("Deborah Atomic").
    """

    def __init__(self, names: Iterable[str]) -> None:
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        self.prefix_counts: Counter[str] = Counter()
        for name in names:
            brand = brand_before_gender(name)
            if brand:
                spellings[fold_brand(brand)][brand] += 1
            elif name:
                words = name.lower().split()
                for n in range(1, min(MAX_BRAND_WORDS, len(words)) + 1):
                    self.prefix_counts[" ".join(words[:n])] += 1
        self.counts: dict[str, int] = {key: sum(c.values()) for key, c in spellings.items()}
        # most frequent spelling; ties broken alphabetically for determinism
        self.canonical: dict[str, str] = {
            key: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for key, c in spellings.items()
        }
        self._max_words = max((len(b.split()) for c in spellings.values() for b in c), default=1)

    def __len__(self) -> int:
        return len(self.counts)

    def count(self, brand: str) -> int:
        return self.counts.get(fold_brand(brand), 0)

    def is_trusted(self, brand: str) -> bool:
        return self.count(brand) >= MIN_BRAND_COUNT

    def spelling(self, brand: str) -> str:
        """The usual spelling of ``brand`` (itself when never seen)."""
        return self.canonical.get(fold_brand(brand), brand)

    def longest_trusted_prefix(self, text: str) -> str | None:
        """The longest trusted brand that ``text`` starts with, as written in ``text``."""
        words = text.split()
        for n in range(min(len(words), self._max_words), 0, -1):
            prefix = " ".join(words[:n])
            if self.is_trusted(prefix):
                return prefix
        return None

    def parent_brand(self, brand: str) -> str | None:
        """The trusted brand that ``brand`` extends, when ``brand`` is rare beside it.

        "Jockey COMFPLUS" (5 names) -> "Jockey" (86); "Lee Cooper" (144) is kept
        apart from "Lee" (357).
        """
        words = brand.split()
        parents = [" ".join(words[:n]) for n in range(1, len(words))]
        parents = [p for p in parents if self.is_trusted(p)]
        if not parents:
            return None
        best = max(parents, key=lambda p: (self.count(p), -len(p)))
        if not self.is_trusted(brand) or self.count(best) >= PARENT_BRAND_RATIO * self.count(brand):
            return best
        return None

    def _brand_without_gender_word(self, title: str) -> str:
        trusted = self.longest_trusted_prefix(title)
        if trusted is not None:
            return trusted
        words = title.split()
        low = [w.lower() for w in words]
        n = 1
        while n < min(MAX_BRAND_WORDS, len(words)) and low[n] not in COLOUR_WORDS:
            here = self.prefix_counts[" ".join(low[:n])]
            longer = self.prefix_counts[" ".join(low[: n + 1])]
            if longer < 2 or longer < PREFIX_SHARE * here:
                break
            n += 1
        return " ".join(words[:n])

    def extract(self, title: str) -> str:
        """Brand of a product name.

        The words before the first gender word; a rare extension of a trusted brand
        is folded into it ("Jockey COMFPLUS Men ..." -> "Jockey", "Red Tape Black
        Men ..." -> "Red Tape"). A name without a gender word takes the longest
        trusted brand it starts with, else the longest word-prefix (up to three
        words, no colour word) that most names sharing its first word also share
        ("Royal Diadem White Earrings" -> "Royal Diadem"). The spelling is the most
        common one in the labels.
        """
        brand = brand_before_gender(title)
        if brand is None:
            brand = self._brand_without_gender_word(title)
        else:
            # a gender word inside a brand: "Mr. Men Printed T-shirt" -> "Mr.Men"
            longer = " ".join(title.split()[: len(brand.split()) + 1])
            if self.is_trusted(longer) and self.count(longer) > self.count(brand):
                brand = longer
        if not self.is_trusted(brand):
            words = brand.split()
            while len(words) > 1 and words[-1].lower() in COLOUR_WORDS:
                words.pop()
            brand = " ".join(words)
        return self.spelling(self.parent_brand(brand) or brand)


def brand_agreement(priced: Sequence[dict[str, str]], vocab: BrandVocabulary) -> dict[str, Any]:
    """Compare extracted brands with the real ``brandName`` column."""
    n = len(priced)
    rule_exact = rule_ci = final_exact = final_ci = 0
    mismatches: list[dict[str, str]] = []
    for row in priced:
        title = clean(row["productDisplayName"])
        truth = clean(row["brandName"])
        rule = brand_before_gender(title) or ""
        final = vocab.extract(title)
        rule_exact += rule == truth
        rule_ci += rule.lower() == truth.lower()
        final_exact += final == truth
        final_ci += final.lower() == truth.lower()
        if final != truth:
            mismatches.append({"title": title, "brandName": truth, "extracted": final})
    return {
        "n": n,
        "rule_exact": rule_exact / n,
        "rule_case_insensitive": rule_ci / n,
        "exact": final_exact / n,
        "case_insensitive": final_ci / n,
        "mismatches": mismatches,
    }


# ----------------------------------------------------------------------------- prices
def calibrate_prices(
    priced: Sequence[dict[str, str]], inr_per_usd: float
) -> tuple[dict[str, PriceCalibration], float]:
    """Per-type real USD price spread and the pooled within-type sd of log-prices.

    The pooled sd uses types with at least five products (so one-off types do not
    shrink it).
    """
    by_type: dict[str, list[float]] = defaultdict(list)
    for row in priced:
        by_type[clean(row["articleType"])].append(float(row["price"]) / inr_per_usd)
    calibration: dict[str, PriceCalibration] = {}
    num = 0.0
    dof = 0
    for article_type, prices in sorted(by_type.items()):
        logs = [math.log(p) for p in prices]
        sd = statistics.pstdev(logs) if len(logs) > 1 else 0.0
        if len(logs) >= 5:
            num += statistics.variance(logs) * (len(logs) - 1)
            dof += len(logs) - 1
        share: float | None = None
        if article_type in PRICE_RANGES_USD:
            low, high = PRICE_RANGES_USD[article_type]
            share = sum(low <= p <= high for p in prices) / len(prices)
        calibration[article_type] = PriceCalibration(
            n=len(prices),
            min_usd=min(prices),
            median_usd=statistics.median(prices),
            max_usd=max(prices),
            log_sd=sd,
            share_in_range=share,
        )
    if dof == 0:
        raise ValueError("no article type with five or more priced products to calibrate on")
    return calibration, math.sqrt(num / dof)


def price_models(pooled_sigma: float) -> dict[str, PriceModel]:
    """Log-normal centred on the range's geometric mid-point.

    The spread is the calibrated within-type spread, narrowed where the range is
    tight so that about 95 % of draws fall inside before truncation.
    """
    models: dict[str, PriceModel] = {}
    for article_type, (low, high) in PRICE_RANGES_USD.items():
        sigma = min(pooled_sigma, math.log(high / low) / 4)
        models[article_type] = PriceModel(float(low), float(high), math.sqrt(low * high), sigma)
    return models


def round_price(value: float, low: float, high: float) -> float:
    """Nearest price ending in .49 or .99 that lies inside ``[low, high]``."""
    base = math.floor(value)
    candidates = [base - 1 + 0.99, base + 0.49, base + 0.99, base + 1 + 0.49]
    inside = [c for c in candidates if low <= c <= high]
    if not inside:
        inside = [math.floor(high) - 1 + 0.99]
    best: float = min(inside, key=lambda c: (abs(c - value), c))
    return round(best, 2)


def draw_price(rng: random.Random, model: PriceModel) -> float:
    """Truncated log-normal draw, rounded to a shop-like ending."""
    for _ in range(1000):
        value = rng.lognormvariate(math.log(model.median), model.sigma)
        if model.low <= value <= model.high:
            return round_price(value, model.low, model.high)
    return round_price(model.median, model.low, model.high)


def draw_rating(rng: random.Random) -> tuple[float, int]:
    """(rating, rating_count): counts log-normal; ratings 1 + 4*Beta with mean 4.1.

    Products with few ratings get a wider spread, as in real shops.
    """
    count = max(1, min(25_000, int(rng.lognormvariate(math.log(40), 1.3))))
    mean = (RATING_MEAN - 1) / 4
    concentration = 4 + 2 * math.log1p(count)
    share = rng.betavariate(mean * concentration, (1 - mean) * concentration)
    return min(5.0, max(1.0, round(1 + 4 * share, 1))), count


def product_rng(seed: int, product_id: str) -> random.Random:
    """A random stream per product, independent of selection order."""
    digest = hashlib.sha256(f"{seed}:{product_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# ----------------------------------------------------------------------------- selection
def modal_categories(rows: Iterable[SourceRow]) -> dict[str, tuple[str, str]]:
    """The most common (masterCategory, subCategory) of each article type."""
    counts: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for row in rows:
        counts[row.article_type][(row.master_category, row.sub_category)] += 1
    return {t: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for t, c in counts.items()}


def image_ok(path: Path) -> bool:
    """Whether a photo exists and decodes."""
    try:
        with Image.open(path) as im:
            im.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def eligible(rows: Sequence[SourceRow], fashion_dir: Path) -> list[SourceRow]:
    """Rows worth shipping: a known type under its usual category, a name, a 60x80 photo.

    A gender that fewer than ``MIN_GENDER_COUNT`` products of a type carry is taken
    for a label error (the one pair of men's "Heels" is a pair of casual shoes).
    """
    modal = modal_categories(rows)
    genders = Counter((row.article_type, row.gender) for row in rows)
    seen: set[str] = set()
    out: list[SourceRow] = []
    for row in rows:
        if row.id in seen or row.article_type not in PRODUCT_TYPES:
            continue
        if (row.master_category, row.sub_category) != modal[row.article_type]:
            continue
        if genders[(row.article_type, row.gender)] < MIN_GENDER_COUNT:
            continue
        if len(row.title.split()) < 2 or (row.width, row.height) != IMAGE_SIZE:
            continue
        if not (fashion_dir / row.image).is_file():
            continue
        seen.add(row.id)
        out.append(row)
    return out


class Variety:
    """How often colours, genders, brands and names have been picked already."""

    def __init__(self, brands: dict[str, str]) -> None:
        self.brands = brands
        self.colours: Counter[str] = Counter()
        self.genders: Counter[str] = Counter()
        self.brand_counts: Counter[str] = Counter()
        self.titles: Counter[str] = Counter()

    def cost(self, row: SourceRow) -> float:
        """Lower for a product that adds variety; gender counts half, a repeated name heavily."""
        return (
            self.colours[row.colour]
            + self.brand_counts[self.brands[row.id].lower()]
            + 0.5 * self.genders[row.gender]
            + 10 * self.titles[row.title.lower()]
        )

    def add(self, row: SourceRow) -> None:
        self.colours[row.colour] += 1
        self.genders[row.gender] += 1
        self.brand_counts[self.brands[row.id].lower()] += 1
        self.titles[row.title.lower()] += 1


def select_products(
    rows: Sequence[SourceRow],
    brands: dict[str, str],
    fashion_dir: Path,
    *,
    per_type: int,
    seed: int,
) -> list[SourceRow]:
    """Pick ``per_type`` products of each article type.

    Seeded greedy: candidates are shuffled, then each pick is the candidate whose
    colour, brand and gender have been picked least so far (gender counts half,
    a repeated name counts heavily); ties go to the shuffled order.
    """
    by_type: dict[str, list[SourceRow]] = defaultdict(list)
    for row in rows:
        by_type[row.article_type].append(row)
    chosen: list[SourceRow] = []
    for article_type in sorted(PRODUCT_TYPES):
        pool = sorted(by_type.get(article_type, []), key=lambda r: int(r.id))
        random.Random(f"{seed}:{article_type}").shuffle(pool)
        variety = Variety(brands)
        picked: list[SourceRow] = []
        while len(picked) < per_type and pool:
            index = min(range(len(pool)), key=lambda i: (variety.cost(pool[i]), i))
            row = pool.pop(index)
            if not image_ok(fashion_dir / row.image):
                continue
            picked.append(row)
            variety.add(row)
        if len(picked) < per_type:
            raise ValueError(f"only {len(picked)} usable products of type {article_type!r}")
        chosen.extend(picked)
    return chosen


# ----------------------------------------------------------------------------- records
def describe(row: SourceRow, product_type: str, brand: str) -> str:
    """A short factual sentence built from the labels only."""
    gender = GENDERS.get(row.gender, "")
    words: list[str] = []
    usage = row.usage.lower()
    if usage and usage not in product_type:
        words.append(usage)
    if gender == "unisex":
        words.append("unisex")
    words.append(product_type)
    colour = row.colour.lower()
    if colour and product_type not in NO_COLOUR_IN_DESCRIPTION:
        words.append("in multiple colours" if colour == "multi" else f"in {colour}")
    if gender and gender != "unisex":
        words.append(f"for {gender}")
    text = " ".join(words)
    collection = " ".join(part for part in (row.season.lower(), row.year) if part)
    if brand and collection:
        owner = f"{brand}'" if brand.endswith("s") else f"{brand}'s"
        text += f", from {owner} {collection} collection"
    elif brand:
        text += f", by {brand}"
    return text[0].upper() + text[1:] + "."


def build_record(
    row: SourceRow,
    *,
    brand: str,
    price_model: PriceModel,
    seed: int,
) -> dict[str, Any]:
    """One catalog line (DESIGN.md "Catalog files")."""
    rng = product_rng(seed, row.id)
    price = draw_price(rng, price_model)
    rating, rating_count = draw_rating(rng)
    in_stock = rng.random() < IN_STOCK_RATE
    product_type = PRODUCT_TYPES[row.article_type]
    attributes: dict[str, str] = {}
    if row.colour:
        attributes["color"] = row.colour.lower()
    if row.gender in GENDERS:
        attributes["gender"] = GENDERS[row.gender]
    for name, value in (("season", row.season), ("usage", row.usage), ("year", row.year)):
        if value:
            attributes[name] = value.lower()
    attributes["price_generated"] = "true"
    attributes["rating_generated"] = "true"
    return {
        "id": row.id,
        "title": row.title,
        "description": describe(row, product_type, brand),
        "product_type": product_type,
        "category": f"{row.master_category} > {row.sub_category} > {row.article_type}",
        "brand": brand,
        "price": price,
        "currency": "USD",
        "rating": rating,
        "rating_count": rating_count,
        "in_stock": in_stock,
        "attributes": attributes,
        "image_path": f"images/{row.id}.jpg",
        "image_url": None,
    }


def reencode_image(src: Path, dst: Path) -> None:
    """RGB JPEG at quality 88, same size, no EXIF or ICC profile."""
    with Image.open(src) as im:
        rgb = im.convert("RGB")
    rgb.save(dst, format="JPEG", quality=JPEG_QUALITY, optimize=True)


# ----------------------------------------------------------------------------- main
def build(source: Path, out: Path, *, seed: int, per_type: int, inr_per_usd: float) -> dict[str, Any]:
    """Write the demo catalog into ``out``; returns a summary."""
    fashion_dir = source / "fashion-small"
    rows = read_catalog(fashion_dir / "catalog.csv")
    vocab = BrandVocabulary(read_display_names(fashion_dir / "styles_all.csv"))
    priced = read_priced(source / "fashion-priced" / "catalog.csv")
    agreement = brand_agreement(priced, vocab)
    calibration, pooled_sigma = calibrate_prices(priced, inr_per_usd)
    models = price_models(pooled_sigma)

    candidates = eligible(rows, fashion_dir)
    brands = {row.id: vocab.extract(row.title) for row in candidates}
    chosen = select_products(candidates, brands, fashion_dir, per_type=per_type, seed=seed)
    chosen.sort(key=lambda r: (PRODUCT_TYPES[r.article_type], int(r.id)))

    images_dir = out / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{row.id}.jpg" for row in chosen}
    for stale in images_dir.glob("*.jpg"):
        if stale.name not in wanted:
            stale.unlink()

    records: list[dict[str, Any]] = []
    for row in chosen:
        reencode_image(fashion_dir / row.image, images_dir / f"{row.id}.jpg")
        records.append(
            build_record(row, brand=brands[row.id], price_model=models[row.article_type], seed=seed)
        )
    with (out / "catalog.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    meta = {
        "source": SOURCE_TEXT,
        "licence": LICENCE_TEXT,
        "n_products": len(records),
        "generated_fields": ["description", "price", "rating", "rating_count", "in_stock"],
        "seed": seed,
        "inr_per_usd": inr_per_usd,
        "price_ranges": {PRODUCT_TYPES[t]: m.as_json() for t, m in sorted(models.items())},
        "price_model": (
            "log-normal centred on the geometric mid-point of each range, sigma = min(pooled "
            "within-type sd of real log-prices, ln(max/min)/4), truncated to the range, rounded "
            "to a .49 or .99 ending"
        ),
        "price_calibration": {
            "pooled_log_sd": round(pooled_sigma, 3),
            "by_article_type": {t: c.as_json() for t, c in calibration.items()},
        },
        "rating_model": (
            "rating_count ~ log-normal(median 40, sigma 1.3); rating = 1 + 4 * Beta with mean "
            f"{RATING_MEAN}, concentration 4 + 2 ln(1 + rating_count), one decimal"
        ),
        "in_stock_rate": IN_STOCK_RATE,
        "brand_extraction": {k: v for k, v in agreement.items() if k != "mismatches"},
    }
    (out / "catalog.meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")

    image_bytes = sum((images_dir / name).stat().st_size for name in wanted)
    bad_images = [name for name in sorted(wanted) if not image_ok(images_dir / name)]
    return {
        "n_products": len(records),
        "per_type": dict(sorted(Counter(r["product_type"] for r in records).items())),
        "eligible": len(candidates),
        "image_bytes": image_bytes,
        "bad_images": bad_images,
        "brand_agreement": agreement,
        "pooled_log_sd": pooled_sigma,
        "price_ranges": {PRODUCT_TYPES[t]: m.as_json() for t, m in sorted(models.items())},
        "calibration": {t: c.as_json() for t, c in calibration.items()},
        "in_stock_share": sum(r["in_stock"] for r in records) / len(records),
        "mean_rating": statistics.fmean(r["rating"] for r in records),
        "median_rating_count": statistics.median(r["rating_count"] for r in records),
        "brands": len({r["brand"].lower() for r in records}),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--source", type=Path, required=True, help="folder holding fashion-small/ and fashion-priced/"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/demo"), help="output folder (default: data/demo)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--per-type", type=int, default=DEFAULT_PER_TYPE, help="products per article type")
    parser.add_argument("--inr-per-usd", type=float, default=DEFAULT_INR_PER_USD)
    args = parser.parse_args(argv)

    summary = build(
        args.source, args.out, seed=args.seed, per_type=args.per_type, inr_per_usd=args.inr_per_usd
    )
    agreement = summary["brand_agreement"]
    print(
        f"products: {summary['n_products']} (from {summary['eligible']} eligible), "
        f"brands: {summary['brands']}"
    )
    print("per type: " + ", ".join(f"{t} {n}" for t, n in summary["per_type"].items()))
    print(f"images: {summary['image_bytes'] / 1e6:.2f} MB, unreadable: {len(summary['bad_images'])}")
    print(
        f"brand agreement on {agreement['n']} priced products: exact {agreement['exact']:.0%}, "
        f"case-insensitive {agreement['case_insensitive']:.0%} "
        f"(plain rule: {agreement['rule_exact']:.0%} / {agreement['rule_case_insensitive']:.0%})"
    )
    for miss in agreement["mismatches"]:
        print(f"  brand mismatch: {miss['title']!r}: {miss['extracted']!r} vs {miss['brandName']!r}")
    print(f"pooled within-type log-price sd: {summary['pooled_log_sd']:.3f}")
    for article_type, cal in summary["calibration"].items():
        print(f"  real {article_type}: {json.dumps(cal)}")
    for product_type, rng in summary["price_ranges"].items():
        print(f"  range {product_type}: {json.dumps(rng)}")
    print(
        f"in stock: {summary['in_stock_share']:.1%}, mean rating: {summary['mean_rating']:.2f}, "
        f"median rating_count: {summary['median_rating_count']}"
    )
    return 1 if summary["bad_images"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
