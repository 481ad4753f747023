"""The dialogue policy: from (NLU result, dialogue state) to an action, products and a reply.

One :class:`Policy` per process.  ``respond`` runs inside the turn's database
transaction (``ctx.s``) so cart and order changes commit together with the turn
log, or not at all.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from assistant import commerce
from assistant.dialogue._resolve import mentions_anaphora, resolve_ordinals, resolve_reference
from assistant.dialogue._state import PAGE_SIZE, DialogueState
from assistant.dialogue._terms import CatalogTerms
from assistant.dialogue._text import describe_filters, join_words, money, plural, title_case
from assistant.errors import ShopAssistError
from assistant.images import ImageIndex, UploadStore, embedder_id, search_by_image
from assistant.prices import PriceService
from assistant.products import explain_hit, ranked_search
from assistant.recommend import HistoryItem, Recommender, session_history
from retrieval import HybridIndex, Product, ProductNotIndexed, SearchFilters, SearchResult

__all__ = ["Policy", "TurnContext", "Outcome", "SEARCH_SLOTS"]

SEARCH_SLOTS = (
    "product_type",
    "brand",
    "color",
    "material",
    "gender",
    "size",
    "price_min",
    "price_max",
    "rating_min",
)
#: least important first: what "no matches" relaxes
RELAX_ORDER = ("rating_min", "material", "size", "brand", "color", "price_min", "price_max", "gender")
FACET_LABEL = {
    "color": "colour",
    "brand": "brand",
    "material": "material",
    "gender": "who it is for",
    "size": "size",
}
BROAD_RESULTS = 20

_MORE = re.compile(
    r"\b(show|see|give|any|got|have)?\s*(me\s+)?(some\s+)?(more|next|others|other ones|else)\b", re.I
)
_MAKE_QTY = re.compile(
    r"\b(make|change|set|update)\s+(it|that|this|them|those|the quantity|quantity)\b", re.I
)
_LIKE_THIS = re.compile(
    r"\b(more|something|anything|others?|ones?|items?|products?|stuff)\s+(just\s+|that\s+looks?\s+)?like\s+"
    r"(this|that|it|these|those|the\b|#?\d)|\blooks?\s+like\s+(this|that|the\b)",
    re.I,
)
#: "more like the third one" reads as one of these (the model is unsure between them)
_LIKE_THIS_INTENTS = frozenset({"recommend", "search", "refine", "product_info", "compare", "out_of_scope"})
_CANCEL_ORDER = re.compile(r"\bcancel\b.*\border\b|\border\b.*\bcancel", re.I)
_CANCEL_FORM = re.compile(r"\b(cancel|stop|never ?mind|forget it|not now|abort)\b", re.I)
_EMAIL_IN_TEXT = re.compile(r"[^\s,;<>()]+@[^\s,;<>()]+")
_YES = re.compile(
    r"^\s*(y|yes|yeah|yep|yup|sure|ok|okay|confirm|confirmed|place it|go ahead|do it|please do)\b", re.I
)
_NO = re.compile(r"^\s*(n|no|nope|nah|don't|do not|not yet|wait)\b", re.I)
_QUESTION_WORDS = frozenset(
    {
        "is",
        "it",
        "this",
        "that",
        "the",
        "a",
        "an",
        "does",
        "do",
        "what",
        "which",
        "how",
        "much",
        "many",
        "about",
        "tell",
        "me",
        "more",
        "of",
        "in",
        "on",
        "for",
        "with",
        "and",
        "or",
        "are",
        "was",
        "be",
        "can",
        "you",
        "your",
        "its",
        "it's",
        "there",
        "any",
        "has",
        "have",
        "made",
        "from",
    }  # fmt: skip
)
_ATTRIBUTE_QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("price", ("price", "cost", "how much", "expensive", "cheap")),
    ("material", ("material", "made of", "fabric", "made from")),
    ("color", ("color", "colour")),
    ("size", ("size", "sizes", "fit", "dimensions", "how big")),
    ("rating", ("rating", "rated", "reviews", "stars", "good")),
    ("in_stock", ("in stock", "available", "availability", "sold out")),
    ("brand", ("brand", "who makes", "made by")),
)


#: a product card before rendering: (product, why, score)
Card = tuple[Product, str, float | None]


@dataclass
class TurnContext:
    s: Session
    session_id: str
    state: DialogueState
    text: str
    intent: str
    confidence: float
    unclear: bool
    slots: dict[str, Any]
    image_id: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Outcome:
    action: str
    reply: str
    products: list[Card] = field(default_factory=list)
    order: dict[str, Any] | None = None
    suggestions: list[str] = field(default_factory=list)
    n_results: int | None = None
    price_advice: dict[str, Any] | None = None


class Policy:
    def __init__(
        self,
        index: HybridIndex,
        *,
        order_webhook: Any = None,
        recommender: Recommender | None = None,
        reranker: Callable[[], Any] | None = None,
        prices: PriceService | None = None,
        images: ImageIndex | None = None,
        uploads: UploadStore | None = None,
    ) -> None:
        self.index = index
        self.prices = prices
        self.images = images
        self.uploads = uploads
        self.order_webhook = order_webhook
        self.recommender = recommender
        self.reranker = reranker
        self.terms = CatalogTerms(index)

    # ------------------------------------------------------------------ helpers
    def _product(self, pid: str) -> Product | None:
        try:
            return self.index.get(pid)
        except ProductNotIndexed:
            return None

    def _cards(self, pids: Sequence[str], why: str = "") -> list[Card]:
        out: list[Card] = []
        for pid in pids:
            p = self._product(pid)
            if p is not None:
                out.append((p, why or _default_why(p), None))
        return out

    def _resolve(self, ctx: TurnContext, *, descriptors: Sequence[str] = ()) -> list[str] | None:
        ordinals = ctx.slots.get("ordinal")
        return resolve_reference(
            text=ctx.text,
            ordinals=ordinals if isinstance(ordinals, list) else None,
            descriptors=descriptors,
            shown=ctx.state.shown,
            focus=ctx.state.focus,
            lookup=self._product,
        )

    def _descriptors(self, ctx: TurnContext) -> list[str]:
        return [str(ctx.slots[k]) for k in ("color", "brand", "material") if ctx.slots.get(k)]

    # ------------------------------------------------------------------ entry
    def respond(self, ctx: TurnContext) -> Outcome:
        st = ctx.state
        if st.form:
            out = self._form_step(ctx)
            if out is not None:
                return out
        intent = ctx.intent
        if ctx.image_id:
            return self._image_search(ctx, f"upload:{ctx.image_id}")
        if _LIKE_THIS.search(ctx.text) and intent in _LIKE_THIS_INTENTS:
            refs = self._resolve(ctx, descriptors=())
            if refs and self.images is not None and refs[0] in self.images:
                return self._image_search(ctx, f"product:{refs[0]}")
        has_search_slots = any(k in ctx.slots for k in SEARCH_SLOTS)
        if ctx.unclear and not has_search_slots and intent not in ("affirm", "deny"):
            return self._unclear()
        if _CANCEL_ORDER.search(ctx.text) and intent in ("order_status", "deny", "checkout", "out_of_scope"):
            return self._cancel_order(ctx)
        if (
            intent in ("search", "refine", "recommend", "affirm")
            and not has_search_slots
            and st.shown
            and not st.shown_is_cart
            and _MORE.search(ctx.text)
        ):
            return self._search(ctx, page_next=True)
        if (
            intent == "add_to_cart"
            and _MAKE_QTY.search(ctx.text)
            and "quantity" in ctx.slots
            and st.last_carted
        ):
            return self._set_quantity(ctx, st.last_carted, int(ctx.slots["quantity"]))
        handler = {
            "greet": self._greet,
            "goodbye": self._goodbye,
            "search": self._search,
            "refine": self._search,
            "product_info": self._product_info,
            "compare": self._compare,
            "recommend": self._recommend,
            "add_to_cart": self._add_to_cart,
            "remove_from_cart": self._remove_from_cart,
            "view_cart": self._view_cart,
            "checkout": self._checkout,
            "order_status": self._order_status,
            "price_advice": self._price_advice,
            "price_alert": self._price_alert,
            "human_handoff": self._handoff,
            "affirm": self._affirm,
            "deny": self._deny,
        }.get(intent, self._out_of_scope)
        return handler(ctx)

    # ------------------------------------------------------------------ small talk
    def _greet(self, ctx: TurnContext) -> Outcome:
        types = self.terms.values("product_type")[:4]
        return Outcome(
            "greet",
            "Hi! I can find products, compare them, answer questions about them and take you through "
            "checkout. What are you looking for today?",
            suggestions=[title_case(plural(t)) for t in types],
        )

    def _goodbye(self, ctx: TurnContext) -> Outcome:
        return Outcome("goodbye", "Thanks for stopping by! Your cart will be here if you come back.")

    def _unclear(self) -> Outcome:
        return Outcome(
            "ask_clarification",
            "Sorry, I'm not sure what you mean. Are you looking for a product, "
            "or is it about your cart or an order?",
            suggestions=["Find a product", "View my cart", "Order status", "Talk to a person"],
        )

    def _out_of_scope(self, ctx: TurnContext) -> Outcome:
        return Outcome(
            "fallback",
            "I can only help with shopping here: finding and comparing products, your cart, and your orders.",
            suggestions=["Find a product", "View my cart", "Talk to a person"],
        )

    def _affirm(self, ctx: TurnContext) -> Outcome:
        if ctx.state.shown and not ctx.state.shown_is_cart:
            return self._search(ctx)
        return Outcome(
            "ask_clarification", "Great — what would you like to look at?", suggestions=["Find a product"]
        )

    def _deny(self, ctx: TurnContext) -> Outcome:
        return Outcome(
            "ask_clarification",
            "No problem. Is there anything else I can help you find?",
            suggestions=["Find a product", "View my cart"],
        )

    # ------------------------------------------------------------------ search
    def _new_filters(self, ctx: TurnContext) -> bool:
        """A new search (fresh filters) or a refinement of the current one?"""
        st, slots = ctx.state, ctx.slots
        if not st.filters and not st.query and not st.image:
            return True
        if ctx.intent != "search":
            return False
        new_type = slots.get("product_type")
        old_type = st.filters.get("product_type")
        return bool(new_type) and new_type != old_type

    def _search(self, ctx: TurnContext, *, page_next: bool = False) -> Outcome:
        st, slots = ctx.state, ctx.slots
        if not page_next:
            if self._new_filters(ctx):
                st.reset_search()
            merged = dict(st.filters)
            for k in SEARCH_SLOTS:
                if k in slots and slots[k] not in (None, ""):
                    merged[k] = slots[k]
            _fix_price_range(merged, slots)
            st.filters = merged
            if slots.get("sort"):
                st.sort = str(slots["sort"])
            st.offset = 0
            if not any(k in slots for k in SEARCH_SLOTS) and not slots.get("sort") and not st.filters:
                st.query = ctx.text
        else:
            st.offset += PAGE_SIZE
        return self._run_search(ctx)

    # ------------------------------------------------------------------ images
    def _image_search(self, ctx: TurnContext, image: str) -> Outcome:
        """Search by a photo (an upload, or a shown product's picture); words add filters on top."""
        st = ctx.state
        if (
            self.images is None
            or self.uploads is None
            or not self.images.n_images
            or self.images.embedder_name != embedder_id(self.images.embedder())
        ):  # no image index yet, or one built by another embedder (being rebuilt)
            out = self._search(ctx)
            out.reply += " (Searching by photo isn't available in this store yet, so I used your words.)"
            return out
        st.reset_search()
        st.image = image
        st.filters = {k: ctx.slots[k] for k in SEARCH_SLOTS if ctx.slots.get(k) not in (None, "")}
        _fix_price_range(st.filters, ctx.slots)
        return self._run_search(ctx)

    def _image_anchor_title(self, image: str) -> str:
        p = self._product(image.split(":", 1)[1])
        return p.title if p is not None else "that product"

    def _page(
        self, ctx: TurnContext, query: str, filters: SearchFilters, *, offset: int
    ) -> tuple[SearchResult, dict[str, str]]:
        """One page of the current search: by image when it has one, else ranked text search."""
        st = ctx.state
        if not st.image or self.images is None or self.uploads is None:
            return self._ranked_page(ctx, query, filters, offset=offset)
        kind, ref = st.image.split(":", 1)
        t0 = time.perf_counter()
        vector = self.uploads.vector(ref) if kind == "upload" else self.images.vector(ref)
        ctx.timings["image_embed_ms"] = (time.perf_counter() - t0) * 1000
        if vector is None:  # the product's picture left the index: fall back to words
            st.image = None
            return self._ranked_page(ctx, query, filters, offset=offset)
        result = search_by_image(
            self.images,
            self.index,
            vector,
            filters,
            query=query,
            limit=PAGE_SIZE,
            offset=offset,
            exclude=[ref] if kind == "product" else [],
        )
        return result, {h.product.id: "looks similar" for h in result.hits}

    def _ranked_page(
        self, ctx: TurnContext, query: str, filters: SearchFilters, *, offset: int
    ) -> tuple[SearchResult, dict[str, str]]:
        """One page of matches, re-ranked and personalised by the session's history."""
        boosts = None
        recommender = self.recommender
        if recommender is not None and recommender.model() is not None:
            history = session_history(ctx.s, ctx.session_id)
            if history:

                def boosts(ids: Sequence[str]) -> dict[str, tuple[float, str]]:
                    return recommender.personal_boosts(history, ids)

        result, personal = ranked_search(
            self.index,
            query,
            filters,
            sort=ctx.state.sort,
            limit=PAGE_SIZE,
            offset=offset,
            facets=("color", "brand", "material", "gender"),
            reranker=self.reranker() if self.reranker is not None else None,
            boosts=boosts,
        )
        if "rerank_ms" in result.timings_ms:
            ctx.timings["rerank_ms"] = ctx.timings.get("rerank_ms", 0.0) + result.timings_ms["rerank_ms"]
        return result, personal

    def _run_search(self, ctx: TurnContext) -> Outcome:
        st = ctx.state
        hard, soft = self.terms.split(st.filters)
        query = " ".join([*soft, st.query]).strip()
        try:
            filters = SearchFilters.model_validate(hard)
        except ValueError:
            filters = SearchFilters()
        result, personal = self._page(ctx, query, filters, offset=st.offset)
        ctx.timings["retrieval_ms"] = ctx.timings.get("retrieval_ms", 0.0) + result.timings_ms.get(
            "total_ms", 0.0
        )
        relaxed: list[str] = []
        while result.total == 0 and st.offset == 0:
            name = next((k for k in RELAX_ORDER if k in st.filters), None)
            if name is None:
                break
            relaxed.append(
                f"{FACET_LABEL.get(name, name.replace('_', ' '))} {_filter_words(name, st.filters[name])}"
            )
            del st.filters[name]
            hard, soft = self.terms.split(st.filters)
            query = " ".join([*soft, st.query]).strip()
            filters = SearchFilters.model_validate(hard)
            result, personal = self._page(ctx, query, filters, offset=0)
        st.last_total = result.total
        if result.total == 0 or not result.hits:
            if st.offset and result.total:
                st.offset = max(0, st.offset - PAGE_SIZE)
                return Outcome(
                    "show_products",
                    f"That's all of them — I have no more {describe_filters(st.filters)} to show.",
                    n_results=result.total,
                )
            t0 = time.perf_counter()
            closest = self.index.rank(query, filters, k=PAGE_SIZE) if query else []
            ctx.timings["retrieval_ms"] = (
                ctx.timings.get("retrieval_ms", 0.0) + (time.perf_counter() - t0) * 1000
            )
            if closest:
                # nothing matches the words well enough: show the nearest products, and say so
                st.shown = [pid for pid, _ in closest]
                st.shown_is_cart = False
                near: list[Card] = [
                    (self.index.get(pid), "closest to what you asked", sc) for pid, sc in closest
                ]
                return Outcome(
                    "show_products",
                    f'Nothing matches "{query}" exactly. These are the closest products I have — '
                    "tell me a product type, colour or budget to narrow it down.",
                    near,
                    suggestions=[title_case(plural(t)) for t in self.terms.values("product_type")[:3]],
                    n_results=0,
                )
            st.shown = []
            return Outcome(
                "show_products",
                f"Sorry, I couldn't find any {describe_filters(st.filters)}. "
                "Try a different product or fewer details?",
                suggestions=[title_case(plural(t)) for t in self.terms.values("product_type")[:3]],
                n_results=0,
            )
        st.shown = [h.product.id for h in result.hits]
        st.shown_is_cart = False
        st.focus = st.shown[0] if len(st.shown) == 1 else st.focus if st.focus in st.shown else None
        cards: list[Card] = [
            (
                h.product,
                ", ".join(x for x in (explain_hit(h, filters, query), personal.get(h.product.id)) if x),
                h.score,
            )
            for h in result.hits
        ]
        what = describe_filters(st.filters, count=result.total)
        start = st.offset + 1
        if st.image:
            top = cards[0][0]
            lead = "your photo" if st.image.startswith("upload:") else self._image_anchor_title(st.image)
            narrowed = f" ({describe_filters(st.filters)})" if st.filters else ""
            note = f" I dropped the {join_words(relaxed, 'and')} filter to find any." if relaxed else ""
            reply = (
                f"Here are the closest matches to {lead}{narrowed}.{note} "
                f"The top match is {top.title} at {money(top.price)}."
                if not st.offset
                else f"More like {lead}: {start}–{start + len(cards) - 1} of the {result.total} closest."
            )
            return Outcome(
                "show_products",
                reply,
                cards,
                n_results=result.total,
                suggestions=["Show me more", "Under $50", "In another colour"],
            )
        if relaxed:
            reply = (
                f"I couldn't find an exact match, so I dropped the {join_words(relaxed, 'and')} filter. "
                f"Here are {result.total} {what}."
            )
            return Outcome(
                "show_products", reply, cards, n_results=result.total, suggestions=["Show me more"]
            )
        if st.offset:
            reply = f"Here are {what} {start}–{start + len(cards) - 1} of {result.total}."
            return Outcome(
                "show_products", reply, cards, n_results=result.total, suggestions=["Show me more"]
            )
        question = self._clarify(ctx, result.facets, result.match_prices, result.total)
        if question is not None:
            facet, text, suggestions = question
            st.asked.append(facet)
            reply = f"I found {result.total} {what}. {text}"
            return Outcome("ask_clarification", reply, cards, suggestions=suggestions, n_results=result.total)
        top = cards[0][0]
        reply = f"I found {result.total} {what}. The top match is {top.title} at {money(top.price)}."
        if st.sort != "relevance":
            lead = "Here is the" if result.total == 1 else "Here are"
            reply = f"{lead} {what}, {_sort_words(st.sort)}. First up: {top.title} at {money(top.price)}."
        return Outcome(
            "show_products", reply, cards, n_results=result.total, suggestions=_refine_suggestions(st)
        )

    def _clarify(
        self, ctx: TurnContext, facets: dict[str, dict[str, int]], prices: list[float], total: int
    ) -> tuple[str, str, list[str]] | None:
        """One question on the most informative facet of a broad result, or None."""
        st = ctx.state
        if total < BROAD_RESULTS or st.sort != "relevance":
            return None
        set_facets = [k for k in st.filters if k not in ("product_type", "price_min", "price_max")]
        if len(set_facets) >= 2 or len(st.asked) >= 1:
            return None
        best: tuple[float, str] | None = None
        for name, counts in facets.items():
            if name in st.filters or name in st.asked or len(counts) < 2:
                continue
            if name == "gender" and set(counts) <= {"unisex"}:
                continue
            h = _entropy(counts.values())
            if best is None or h > best[0]:
                best = (h, name)
        price_h = math.log(3) * 0.9 if len(prices) >= 6 and "price_max" not in st.filters else 0.0
        if (best is None or price_h > best[0]) and price_h > 0:
            lo, hi = _quantiles(prices)
            return (
                "price",
                f"What's your budget? Most are between {money(lo)} and {money(hi)}.",
                [f"Under {money(lo)}", f"{money(lo)} to {money(hi)}", f"Over {money(hi)}"],
            )
        if best is None or best[0] < 0.6:
            return None
        name = best[1]
        top = [v for v, _ in Counter(facets[name]).most_common(4)]
        label = FACET_LABEL.get(name, name)
        if name == "gender":
            return (name, "Is it for men, women or kids?", [title_case(v) for v in top])
        return (
            name,
            f"Any preferred {label}? {join_words([title_case(v) for v in top[:3]])} are the most common.",
            [title_case(v) for v in top],
        )

    # ------------------------------------------------------------------ products
    def _product_info(self, ctx: TurnContext) -> Outcome:
        refs = self._resolve(ctx, descriptors=self._descriptors(ctx))
        if not refs:
            return self._ask_which(ctx, "Which product do you mean?")
        p = self._product(refs[0])
        if p is None:
            return self._ask_which(ctx, "Which product do you mean?")
        ctx.state.focus = p.id
        commerce.add_event(ctx.s, session_id=ctx.session_id, type="view", product_id=p.id)
        answer = _answer_question(p, ctx.text)
        return Outcome(
            "show_details",
            answer,
            [(p, _default_why(p), None)],
            suggestions=["Add it to my cart", "Show similar"],
        )

    def _ask_which(self, ctx: TurnContext, question: str) -> Outcome:
        shown = [p for pid in ctx.state.shown[:PAGE_SIZE] if (p := self._product(pid)) is not None]
        if not shown:
            return Outcome(
                "ask_clarification",
                "Which product do you mean? Tell me what you're looking for and I'll show some options.",
                suggestions=["Find a product"],
            )
        choices = "; ".join(f"{i}) {p.title}" for i, p in enumerate(shown, 1))
        return Outcome(
            "ask_clarification",
            f"{question} {choices}.",
            [(p, _default_why(p), None) for p in shown],
            suggestions=[f"The {_ordinal_word(i)} one" for i in range(1, min(len(shown), 3) + 1)],
        )

    def _compare(self, ctx: TurnContext) -> Outcome:
        ordinals = _group_ordinals(ctx.text, ctx.slots.get("ordinal"), len(ctx.state.shown))
        refs: list[str] | None
        if isinstance(ordinals, list) and ordinals:
            refs = resolve_ordinals(ordinals, ctx.state.shown)
        elif ctx.state.shown and (mentions_anaphora(ctx.text) or "compare" in ctx.text.lower()):
            refs = ctx.state.shown[: min(3, len(ctx.state.shown))]
        else:
            refs = None
        if not refs or len(refs) < 2:
            return self._ask_which(ctx, "Which products should I compare? Name two to four of these:")
        products = [p for pid in refs[:4] if (p := self._product(pid)) is not None]
        cheapest = min(products, key=lambda p: p.price)
        rated = [p for p in products if p.rating is not None]
        best = max(rated, key=lambda p: (p.rating or 0, p.rating_count)) if rated else None
        lines = []
        for i, p in enumerate(products, 1):
            attrs = ", ".join(
                f"{k} {v}" for k, v in p.attributes.items() if k in ("color", "material", "size", "gender")
            )
            rating = (
                f"{p.rating:.1f}★ ({p.rating_count} ratings)" if p.rating is not None else "no ratings yet"
            )
            stock = "" if p.in_stock else ", out of stock"
            lines.append(f"{i}) {p.title}: {money(p.price)}, {rating}{', ' + attrs if attrs else ''}{stock}")
        summary = f"{cheapest.title} is the cheapest"
        if best is not None and best.id != cheapest.id:
            summary += f"; {best.title} is the best rated"
        reply = "Side by side: " + "; ".join(lines) + f". {summary}."
        ctx.state.shown = [p.id for p in products]
        ctx.state.shown_is_cart = False
        ctx.state.focus = None
        cards: list[Card] = [
            (
                p,
                "cheapest"
                if p.id == cheapest.id
                else "best rated"
                if best and p.id == best.id
                else "compared",
                None,
            )
            for p in products
        ]
        return Outcome("compare", reply, cards, suggestions=[f"Add the {_ordinal_word(1)} one"])

    def _recommend(self, ctx: TurnContext) -> Outcome:
        st = ctx.state
        anchor_id = None
        refs = (
            self._resolve(ctx, descriptors=())
            if ctx.slots.get("ordinal") or mentions_anaphora(ctx.text)
            else None
        )
        if refs:
            anchor_id = refs[0]
        elif st.focus:
            anchor_id = st.focus
        elif st.last_carted:
            anchor_id = st.last_carted
        if any(k in ctx.slots for k in SEARCH_SLOTS) or (anchor_id is None and not st.shown):
            # "recommend a good watch under 100": best rated within those constraints
            if self._new_filters(ctx):
                st.reset_search()
            st.filters.update({k: v for k, v in ctx.slots.items() if k in SEARCH_SLOTS})
            st.sort = "rating_desc"
            out = self._run_search(ctx)
            if out.products:
                out.action = "recommend"
                out.reply = (
                    f"My top picks: {out.products[0][0].title} at {money(out.products[0][0].price)} leads."
                )
                out.products = [(p, "top rated " + (why or ""), sc) for p, why, sc in out.products]
            return out
        anchor = self._product(anchor_id) if anchor_id else self._product(st.shown[0])
        if anchor is None:
            return self._out_of_scope(ctx)
        cards: list[Card] = []
        source = "similar"
        if self.recommender is not None:
            # the session's own history (views, cart adds, orders), with the product in focus last
            history = [h for h in session_history(ctx.s, ctx.session_id) if h.product_id != anchor.id]
            history.append(HistoryItem(anchor.id, chose=anchor.id == st.last_carted))
            in_cart = {line.product_id for line in commerce.get_cart(ctx.s, session_id=ctx.session_id).items}
            recs = self.recommender.recommend(
                history, k=PAGE_SIZE, exclude=in_cart, filters=SearchFilters(in_stock=True)
            )
            cards = [(r.product, r.why, r.score) for r in recs]
            source = recs[0].source if recs else source
        if not cards:
            similar = self.index.similar(anchor.id, SearchFilters(in_stock=True), k=PAGE_SIZE)
            cards = [(p, f"similar to {anchor.title}", score) for p, score in similar]
        st.shown = [p.id for p, _, _ in cards]
        st.shown_is_cart = False
        if not cards:
            reply = "I have nothing similar right now."
        elif source == "sequential":
            reply = f"Shoppers who chose {anchor.title} often go on to these."
        else:
            reply = f"If you like {anchor.title}, you might also like these."
        return Outcome("recommend", reply, cards, suggestions=["Compare the first two"])

    # ------------------------------------------------------------------ cart
    def _cart_reply(self, ctx: TurnContext) -> str:
        cart = commerce.get_cart(ctx.s, session_id=ctx.session_id)
        n = sum(line.quantity for line in cart.items)
        return f"Your cart has {n} item{'s' if n != 1 else ''}, total {money(cart.total)}."

    def _add_to_cart(self, ctx: TurnContext) -> Outcome:
        refs = self._resolve(ctx, descriptors=self._descriptors(ctx))
        if not refs:
            return self._ask_which(ctx, "Which one should I add to your cart?")
        qty = int(ctx.slots.get("quantity") or 1)
        added = []
        for pid in refs:
            try:
                commerce.add_to_cart(ctx.s, session_id=ctx.session_id, product_id=pid, quantity=qty)
            except ShopAssistError as exc:
                return Outcome("show_cart", f"I couldn't add that: {exc.message}", self._cards([pid]))
            p = self._product(pid)
            if p is not None:
                added.append(p)
        ctx.state.focus = refs[-1]
        ctx.state.last_carted = refs[-1]
        names = join_words([f"{qty} × {p.title}" if qty > 1 else p.title for p in added], "and")
        return Outcome(
            "cart_updated",
            f"Added {names} to your cart. {self._cart_reply(ctx)}",
            [(p, "in your cart", None) for p in added],
            suggestions=["Check out", "View my cart", "Keep shopping"],
        )

    def _set_quantity(self, ctx: TurnContext, pid: str, qty: int) -> Outcome:
        try:
            commerce.set_quantity(ctx.s, session_id=ctx.session_id, product_id=pid, quantity=qty)
        except ShopAssistError as exc:
            return Outcome("show_cart", f"I couldn't change that: {exc.message}")
        p = self._product(pid)
        title = p.title if p else "that item"
        return Outcome(
            "cart_updated",
            f"Done — {qty} × {title}. {self._cart_reply(ctx)}"
            if qty
            else f"Removed {title}. {self._cart_reply(ctx)}",
            self._cards([pid], "in your cart") if qty else [],
            suggestions=["Check out", "View my cart"],
        )

    def _remove_from_cart(self, ctx: TurnContext) -> Outcome:
        st = ctx.state
        cart = commerce.get_cart(ctx.s, session_id=ctx.session_id)
        in_cart = [line.product_id for line in cart.items]
        if not in_cart:
            return Outcome("show_cart", "Your cart is already empty.", suggestions=["Find a product"])
        ordinals = ctx.slots.get("ordinal")
        refs: list[str] | None = None
        if isinstance(ordinals, list) and ordinals:
            refs = resolve_ordinals(ordinals, in_cart if st.shown_is_cart or not st.shown else st.shown)
        else:
            words = [w for w in (ctx.slots.get("product_type"), *self._descriptors(ctx)) if w]
            if words:
                hits = [pid for pid in in_cart if (p := self._product(pid)) and _mentions(p, words)]
                refs = hits if len(hits) == 1 else None
            elif len(in_cart) == 1:
                refs = in_cart
            elif st.focus in in_cart or st.last_carted in in_cart:
                refs = [st.focus if st.focus in in_cart else st.last_carted]  # type: ignore[list-item]
        refs = [r for r in refs or [] if r in in_cart]
        if not refs:
            lines = "; ".join(f"{i}) {line.title}" for i, line in enumerate(cart.items, 1))
            st.shown, st.shown_is_cart = in_cart, True
            return Outcome(
                "ask_clarification",
                f"Which item should I remove? {lines}.",
                self._cards(in_cart, "in your cart"),
            )
        qty = ctx.slots.get("quantity")
        removed = []
        for pid in refs:
            line = next(li for li in cart.items if li.product_id == pid)
            if qty and int(qty) < line.quantity:
                commerce.set_quantity(
                    ctx.s, session_id=ctx.session_id, product_id=pid, quantity=line.quantity - int(qty)
                )
            else:
                commerce.remove_from_cart(ctx.s, session_id=ctx.session_id, product_id=pid)
            removed.append(line.title)
        st.focus = None if st.focus in refs else st.focus
        return Outcome(
            "cart_updated",
            f"Removed {join_words(removed, 'and')}. {self._cart_reply(ctx)}",
            suggestions=["View my cart", "Keep shopping"],
        )

    def _view_cart(self, ctx: TurnContext) -> Outcome:
        cart = commerce.get_cart(ctx.s, session_id=ctx.session_id)
        if not cart.items:
            return Outcome("show_cart", "Your cart is empty.", suggestions=["Find a product"])
        ids = [line.product_id for line in cart.items]
        ctx.state.shown, ctx.state.shown_is_cart = ids, True
        lines = "; ".join(f"{line.quantity} × {line.title} ({money(line.unit_price)})" for line in cart.items)
        return Outcome(
            "show_cart",
            f"In your cart: {lines}. Total {money(cart.total)}.",
            self._cards(ids, "in your cart"),
            suggestions=["Check out", "Keep shopping"],
        )

    # ------------------------------------------------------------------ checkout
    def _checkout(self, ctx: TurnContext) -> Outcome:
        st = ctx.state
        cart = commerce.get_cart(ctx.s, session_id=ctx.session_id)
        if not cart.items:
            return Outcome(
                "show_cart",
                "Your cart is empty, so there's nothing to check out yet.",
                suggestions=["Find a product"],
            )
        st.form = "email"
        st.checkout = {k: v for k, v in st.checkout.items() if k in ("email", "address")}
        found = _EMAIL_IN_TEXT.search(ctx.text)
        if found:
            return self._form_email(ctx, found.group(0))
        if st.checkout.get("email") and st.checkout.get("address"):
            return self._ask_confirm(ctx)
        n = sum(line.quantity for line in cart.items)
        return Outcome(
            "collect_checkout_details",
            f"Let's check out: {n} item{'s' if n != 1 else ''}, total {money(cart.total)}. "
            "What email address should I send the order confirmation to?",
        )

    def _form_step(self, ctx: TurnContext) -> Outcome | None:
        st = ctx.state
        text = ctx.text.strip()
        if _CANCEL_FORM.search(text) and not _EMAIL_IN_TEXT.search(text) and st.form != "address":
            st.form = None
            return Outcome(
                "show_cart",
                "OK, I've stopped the checkout. Your cart is still saved.",
                suggestions=["View my cart"],
            )
        looks_like_other = ctx.confidence >= 0.85 and ctx.intent in (
            "search", "view_cart", "add_to_cart", "remove_from_cart", "compare", "product_info",
            "human_handoff", "order_status", "goodbye", "recommend",
        )  # fmt: skip
        if st.form == "email":
            found = _EMAIL_IN_TEXT.search(text)
            if found:
                return self._form_email(ctx, found.group(0))
            if looks_like_other:
                st.form = None
                return None
            return Outcome(
                "collect_checkout_details",
                "I need an email address for the order confirmation (like name@example.com). What is it?",
            )
        if st.form == "address":
            if looks_like_other and not any(ch.isdigit() for ch in text):
                st.form = None
                return None
            try:
                address = commerce.parse_address(text)
            except ShopAssistError as exc:
                return Outcome(
                    "collect_checkout_details",
                    f"That address doesn't look complete: {exc.message} Please send name, street, city, "
                    "region, postal code and country, separated by commas.",
                )
            st.checkout["address"] = address.model_dump()
            return self._ask_confirm(ctx)
        if st.form == "confirm":
            if ctx.intent == "affirm" or _YES.search(text):
                return self._place(ctx)
            if ctx.intent == "deny" or _NO.search(text):
                st.form = None
                return Outcome(
                    "show_cart",
                    "OK, I haven't placed the order. Your cart is still saved.",
                    suggestions=["View my cart"],
                )
            if looks_like_other:
                st.form = None
                return None
            return Outcome(
                "confirm_order",
                "Shall I place the order? Please answer yes or no.",
                suggestions=["Yes", "No"],
            )
        st.form = None
        return None

    def _form_email(self, ctx: TurnContext, candidate: str) -> Outcome:
        st = ctx.state
        try:
            email = commerce.validate_email(candidate)
        except ShopAssistError as exc:
            st.form = "email"
            return Outcome("collect_checkout_details", f"{exc.message} Could you type your email again?")
        st.checkout["email"] = email
        if st.checkout.get("address"):
            return self._ask_confirm(ctx)
        st.form = "address"
        return Outcome(
            "collect_checkout_details",
            f"Thanks, I'll send the confirmation to {email}. What's the shipping address? "
            "Please give name, street, city, region, postal code and country.",
        )

    def _ask_confirm(self, ctx: TurnContext) -> Outcome:
        st = ctx.state
        changes = commerce.cart_changes(ctx.s, session_id=ctx.session_id)
        notes = ""
        if changes:
            commerce.refresh_cart(ctx.s, session_id=ctx.session_id)
            notes = " Note: " + "; ".join(c.describe() for c in changes) + "."
        cart = commerce.get_cart(ctx.s, session_id=ctx.session_id)
        if not cart.items:
            st.form = None
            return Outcome("show_cart", "Your cart is empty now, so there's nothing to order." + notes)
        st.form = "confirm"
        st.checkout["total"] = float(cart.total)
        addr = commerce.Address.model_validate(st.checkout["address"])
        items = "; ".join(f"{line.quantity} × {line.title}" for line in cart.items)
        return Outcome(
            "confirm_order",
            f"Please confirm: {items}. Total {money(cart.total)}, shipping to {addr.one_line()}, "
            f"confirmation to {st.checkout['email']}.{notes} Shall I place the order?",
            self._cards([line.product_id for line in cart.items], "in your cart"),
            suggestions=["Yes", "No"],
        )

    def _place(self, ctx: TurnContext) -> Outcome:
        st = ctx.state
        attempt = st.checkout.setdefault("attempt", 0)
        try:
            order = commerce.place_order(
                ctx.s,
                session_id=ctx.session_id,
                email=str(st.checkout["email"]),
                address=commerce.Address.model_validate(st.checkout["address"]),
                idempotency_key=f"chat:{ctx.session_id}:{attempt}",
                confirmed_total=float(st.checkout.get("total", 0.0)),
                notifier=self.order_webhook,
            )
        except commerce.PriceChanged:
            return self._ask_confirm(ctx)
        except commerce.OutOfStock as exc:
            for pid in exc.product_ids:
                commerce.remove_from_cart(ctx.s, session_id=ctx.session_id, product_id=pid)
            out = self._ask_confirm(ctx)
            out.reply = f"{exc.message} I've taken it out of your cart. " + out.reply
            return out
        except commerce.CartEmpty:
            st.form = None
            return Outcome("show_cart", "Your cart is empty, so there's nothing to order.")
        st.form = None
        st.checkout = {"attempt": attempt + 1}
        public = order.to_public()
        return Outcome(
            "order_placed",
            f"Your order {order.id} is placed! Total {money(order.total)}. "
            f"You'll get a confirmation email; ask me about order {order.id} any time.",
            order=public,
            suggestions=["Order status", "Keep shopping"],
        )

    # ------------------------------------------------------------------ orders
    def _order_status(self, ctx: TurnContext) -> Outcome:
        oid = ctx.slots.get("order_id")
        try:
            if oid:
                order = commerce.get_order(ctx.s, order_id=str(oid), session_id=ctx.session_id)
            else:
                orders = commerce.orders_of_session(ctx.s, session_id=ctx.session_id)
                if not orders:
                    return Outcome("order_status", "You haven't placed an order in this conversation yet.")
                order = orders[0]
        except commerce.OrderNotFound:
            return Outcome(
                "order_status",
                f"I can't find order {oid} in this conversation. "
                "Please check the number, or ask for a person.",
                suggestions=["Talk to a person"],
            )
        return Outcome(
            "order_status",
            f"Order {order.id} is {order.status}. Total {money(order.total)}.",
            order=order.to_public(),
        )

    def _cancel_order(self, ctx: TurnContext) -> Outcome:
        oid = ctx.slots.get("order_id")
        try:
            if not oid:
                orders = commerce.orders_of_session(ctx.s, session_id=ctx.session_id)
                if not orders:
                    return Outcome("order_status", "You have no order to cancel in this conversation.")
                oid = orders[0].id
            order = commerce.cancel_order(
                ctx.s, order_id=str(oid), session_id=ctx.session_id, notifier=self.order_webhook
            )
        except commerce.OrderNotFound:
            return Outcome("order_status", f"I can't find order {oid} in this conversation.")
        except ShopAssistError as exc:
            return Outcome("order_status", f"I can't cancel that order: {exc.message}")
        return Outcome("order_status", f"Order {order.id} is cancelled.", order=order.to_public())

    # ------------------------------------------------------------------ prices
    def _priced_product(self, ctx: TurnContext) -> Product | None:
        refs = self._resolve(ctx, descriptors=self._descriptors(ctx))
        p = self._product(refs[0]) if refs else None
        if p is not None:
            ctx.state.focus = p.id
        return p

    def _price_advice(self, ctx: TurnContext) -> Outcome:
        p = self._priced_product(ctx)
        if p is None:
            return self._ask_which(ctx, "Which product's price should I check?")
        if self.prices is None:
            return Outcome(
                "show_details",
                f"{p.title} costs {money(p.price)} today; I have no price history to judge it by.",
                [(p, _default_why(p), None)],
            )
        t0 = time.perf_counter()
        advice = self.prices.advice(p.id)
        ctx.timings["pricing_ms"] = ctx.timings.get("pricing_ms", 0.0) + (time.perf_counter() - t0) * 1000
        verdict = advice.get("verdict")
        lead = {
            "buy_now": "Good time to buy",
            "wait": "I'd wait",
            "not_enough_history": "Hard to say yet",
        }.get(str(verdict), "")
        reply = f"{lead}: {advice.get('why', '')}".strip(": ") if lead else str(advice.get("why", ""))
        suggestions = ["Add it to my cart"]
        if verdict != "buy_now":
            suggestions.insert(0, "Tell me when it drops")
        return Outcome(
            "price_advice",
            reply,
            [(p, _default_why(p), None)],
            suggestions=suggestions,
            price_advice=advice,
        )

    def _price_alert(self, ctx: TurnContext) -> Outcome:
        p = self._priced_product(ctx)
        if p is None:
            return self._ask_which(ctx, "Which product should I watch the price of?")
        raw = ctx.slots.get("price_max")
        price_max = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        email_match = _EMAIL_IN_TEXT.search(ctx.text)
        from assistant.prices import PriceAlreadyBelow, create_alert

        try:
            alert = create_alert(
                ctx.s,
                session_id=ctx.session_id,
                product_id=p.id,
                price_max=price_max,
                email=email_match.group(0).strip(".") if email_match else None,
            )
        except PriceAlreadyBelow:
            return Outcome(
                "show_details",
                f"Good news: {p.title} is already {money(p.price)}, under your {money(price_max or 0)}.",
                [(p, _default_why(p), None)],
                suggestions=["Add it to my cart"],
            )
        except ShopAssistError as exc:
            return Outcome("fallback", f"I couldn't set that alert: {exc.message}")
        when = (
            f"drops to {money(alert.price_max)} or less"
            if alert.price_max is not None
            else "drops below today's price"
        )
        where = f" and email {alert.email}" if alert.email else ""
        again = "" if alert.created else " (you already had this alert)"
        return Outcome(
            "alert_created",
            f"Done: I'll tell you here{where} when {p.title} {when}; it's {money(p.price)} now{again}.",
            [(p, _default_why(p), None)],
            suggestions=["Is it a good price?", "Show similar"],
        )

    def _handoff(self, ctx: TurnContext) -> Outcome:
        commerce.request_handoff(ctx.s, session_id=ctx.session_id, reason=ctx.text[:500])
        return Outcome(
            "handoff",
            "I've asked a member of our team to join. "
            "They'll reply right here; you can keep browsing meanwhile.",
        )


# ---------------------------------------------------------------------------- pure helpers


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "both": 2, "2": 2, "3": 3, "4": 4}
_GROUP = re.compile(r"\b(first|top|last)\s+(two|three|four|2|3|4)\b|\b(both|these two|those two)\b", re.I)


def _group_ordinals(text: str, ordinals: Any, n_shown: int) -> list[int] | None:
    """ "the first two" → [1, 2], "the last three" → the last three positions, "both" → [1, 2]."""
    m = _GROUP.search(text)
    if m:
        if m.group(3):
            return [1, 2]
        n = _COUNT_WORDS[m.group(2).lower()]
        if m.group(1).lower() == "last":
            return [i for i in range(max(1, n_shown - n + 1), n_shown + 1)] or None
        return list(range(1, n + 1))
    return ordinals if isinstance(ordinals, list) and ordinals else None


def _fix_price_range(merged: dict[str, Any], slots: dict[str, Any]) -> None:
    """A new bound that contradicts the old other bound replaces the pair ("actually under 300")."""
    lo, hi = merged.get("price_min"), merged.get("price_max")
    if lo is not None and hi is not None and float(lo) > float(hi):
        if "price_max" in slots and "price_min" not in slots:
            del merged["price_min"]
        else:
            del merged["price_max"]


def _filter_words(name: str, value: Any) -> str:
    if name == "price_max":
        return f"(under {money(float(value))})"
    if name == "price_min":
        return f"(over {money(float(value))})"
    if name == "rating_min":
        return f"({float(value):g}+ stars)"
    return f"({value})"


def _sort_words(sort: str) -> str:
    return {
        "price_asc": "cheapest first",
        "price_desc": "most expensive first",
        "rating_desc": "best rated first",
    }.get(sort, "most relevant first")


def _refine_suggestions(st: DialogueState) -> list[str]:
    out = []
    if "price_max" not in st.filters:
        out.append("Cheaper options")
    if st.sort != "rating_desc":
        out.append("Best rated")
    out.append("Compare the first two")
    return out


def _entropy(counts: Any) -> float:
    values = [c for c in counts if c > 0]
    total = float(sum(values))
    if total <= 0:
        return 0.0
    return float(-sum((c / total) * math.log(c / total) for c in values))


def _quantiles(prices: list[float]) -> tuple[float, float]:
    ordered = sorted(prices)
    lo = ordered[len(ordered) // 3]
    hi = ordered[(2 * len(ordered)) // 3]
    return round(lo), round(max(hi, lo + 1))


def _ordinal_word(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")


def _default_why(p: Product) -> str:
    bits = []
    if p.rating is not None and p.rating >= 4.5:
        bits.append("top rated")
    if p.attributes.get("color"):
        bits.append(p.attributes["color"])
    return ", ".join(bits) or p.product_type or "in the catalog"


def _mentions(p: Product, words: Sequence[Any]) -> bool:
    hay = " ".join([p.title, p.product_type, p.brand, *p.attributes.values()]).lower()
    return all(str(w).lower() in hay for w in words)


def _answer_question(p: Product, text: str) -> str:
    """Answer from the product's own data; "not stated by the seller" when it is absent. Never invent."""
    low = text.lower()
    for attr, cues in _ATTRIBUTE_QUESTIONS:
        if any(c in low for c in cues):
            if attr == "price":
                return f"{p.title} costs {money(p.price)}."
            if attr == "rating":
                if p.rating is None:
                    return f"{p.title} has no ratings yet."
                return f"{p.title} is rated {p.rating:.1f} out of 5 from {p.rating_count} ratings."
            if attr == "in_stock":
                return f"{p.title} is {'in stock' if p.in_stock else 'out of stock right now'}."
            if attr == "brand":
                return (
                    f"{p.title} is made by {p.brand}."
                    if p.brand
                    else f"The brand of {p.title} is not stated by the seller."
                )
            value = p.attributes.get(attr)
            label = "colour" if attr == "color" else attr
            if value:
                return f"The {label} of {p.title} is {value}."
            return f"The {label} of {p.title} is not stated by the seller."
    words = [w for w in re.findall(r"[a-z][a-z-]+", low) if w not in _QUESTION_WORDS and len(w) > 2]
    title_words = set(re.findall(r"[a-z]+", p.title.lower()))
    asked = [w for w in words if w not in title_words]
    if asked and re.search(r"\?|^(is|does|do|can|will|has|are)\b", low):
        hay_sentences = re.split(r"(?<=[.!?])\s+", p.description) + [
            f"{k}: {v}" for k, v in p.attributes.items()
        ]
        for w in asked:
            for sentence in hay_sentences:
                if w in sentence.lower():
                    return f'The seller says: "{sentence.strip()}"'
        return f"That is not stated by the seller for {p.title}. I'd rather not guess."
    details = ", ".join(
        f"{k} {v}"
        for k, v in p.attributes.items()
        if k in ("color", "material", "size", "gender", "usage", "season")
    )
    rating = f" Rated {p.rating:.1f}/5 ({p.rating_count} ratings)." if p.rating is not None else ""
    desc = f" {p.description}" if p.description else ""
    extra = f" {details.capitalize()}." if details else ""
    return f"{p.title} by {p.brand or 'an unnamed brand'}, {money(p.price)}.{rating}{extra}{desc}"
