"""Seeded, deterministic training data: templates per intent, filled from a vocabulary.

An utterance is built as a list of segments ``(text, tag_slot)``; the slot segments carry the
*surface* the shopper would type ("two hundred fifty bucks", "Blak", "sofas") while the gold
slots hold the normalised value (250.0, "black", "sofa").  Noise (typos on keyboard
neighbours, dropped letters, lower case, no punctuation, fillers, voice-style spoken numbers)
is applied to segments, so word-level BIO tags always line up with the final text.

Same vocabulary + same seed -> the same examples, in the same order.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.nlu._inflect import pluralize
from assistant.nlu._numbers import format_number, number_to_words, ordinal_to_words
from assistant.nlu._schema import INTENTS, Example
from assistant.nlu._text import split_words
from assistant.nlu._vocab import (
    _AMBIGUOUS_BRANDS,
    BUILTIN_CATEGORIES,
    BUILTIN_COLORS,
    SIZE_KINDS,
    CatalogVocabulary,
    Category,
    canonical_brand,
    canonical_type,
    split_holdout,
)

__all__ = ["ExampleGenerator", "generate_examples", "DEFAULT_INTENT_WEIGHTS"]

#: share of each intent in a generated set (search/refine carry most slots)
DEFAULT_INTENT_WEIGHTS: dict[str, float] = {
    "search": 0.22,
    "refine": 0.10,
    "product_info": 0.06,
    "compare": 0.045,
    "recommend": 0.05,
    "add_to_cart": 0.065,
    "remove_from_cart": 0.04,
    "view_cart": 0.025,
    "checkout": 0.03,
    "order_status": 0.045,
    "price_advice": 0.04,
    "price_alert": 0.045,
    "human_handoff": 0.03,
    "greet": 0.025,
    "goodbye": 0.025,
    "affirm": 0.03,
    "deny": 0.03,
    "out_of_scope": 0.05,
}

_KEYBOARD = {
    "q": "wa",
    "w": "qes",
    "e": "wrd",
    "r": "etf",
    "t": "ryg",
    "y": "tuh",
    "u": "yij",
    "i": "uok",
    "o": "ipl",
    "p": "ol",
    "a": "qsz",
    "s": "adwxz",
    "d": "sfecx",
    "f": "dgrv",
    "g": "fhtb",
    "h": "gjyn",
    "j": "hkum",
    "k": "jlim",
    "l": "kop",
    "z": "asx",
    "x": "zsdc",
    "c": "xdfv",
    "v": "cfgb",
    "b": "vghn",
    "n": "bhjm",
    "m": "njk",
}

Seg = tuple[str, str | None]


@dataclass
class _Utt:
    """An utterance under construction."""

    intent: str
    cat: Category
    spoken: bool = False
    segs: list[Seg] = field(default_factory=list)
    gold: dict[str, Any] = field(default_factory=dict)
    reserved: set[str] = field(default_factory=set)  # slots a later filler of the template fills

    def lit(self, text: str) -> None:
        if text:
            self.segs.append((text, None))

    def slot(self, text: str, slot: str, value: Any) -> None:
        self.segs.append((text, slot))
        if slot == "ordinal":
            have: list[int] = self.gold.setdefault("ordinal", [])
            have.extend(k for k in value if k not in have)
        elif slot == "price_approx":
            self.gold.setdefault("price_min", round(value * 0.8, 2))
            self.gold.setdefault("price_max", round(value * 1.2, 2))
        else:
            self.gold.setdefault(slot, value)

    def has(self, slot: str) -> bool:
        return slot in self.gold


# ------------------------------------------------------------------------------------ templates
# (a|b) picks one, [x] is optional, {name} is a filler
_T: dict[str, tuple[str, ...]] = {
    "search": (
        "{np}",
        "{np}",
        "{np} {post}",
        "{np_pl}",
        "{np_pl}",
        "{np_bare}",
        "{np_pl} {post}",
        "{np_pl} {post}",
        "{np_bare} {post}",
        "{type_pl} {post}",
        "{type} {post}",
        "{type_pl} in {color}",
        "{np} {extra}",
        "{np_pl} {extra} {post}",
        "(show me|i need|looking for) {np} {extra}",
        "[(i'm looking for|i want|need)] {np_pl} like {extra}",
        "show me {np}",
        "show me {np} {post}",
        "(i'm|im|i am) looking for {np}",
        "(i'm|i am) looking for {np} {post}",
        "do you (have|sell|carry|stock) {np}",
        "do you have any {np_pl} {post}",
        "i need {np}",
        "i need {np} {post}",
        "find me {np}",
        "find {np} {post}",
        "any {np_pl}[?]",
        "got any {np_pl} {post}[?]",
        "search [(for )]{np}",
        "searching for {np} {post}",
        "looking for {np}",
        "looking for {np} {post}",
        "(i want|i wanna|i'd like) to buy {np}",
        "can you show me {np}",
        "can you show me {np} {post}",
        "could you find me {np} {post}",
        "(i'd like|i would like) {np}",
        "where can i find {np}",
        "what {np_pl} do you have[?]",
        "what {np_pl} do you have {post}[?]",
        "help me find {np}",
        "help me find {np} {post}",
        "(i'm|i am) shopping for {np}",
        "i'm in the market for {np}",
        "let me see {np_pl}",
        "let me see (some|your) {np_pl} {post}",
        "pull up {np_pl}",
        "get me {np}",
        "(i'm|i am) after {np}",
        "do you guys have {np} {post}",
        "need {np} {post}",
        "need {np} for (my|our) (living room|bedroom|kitchen|office|apartment|new place|dorm|trip|wedding)",
        "(i'm|we're) (moving|redecorating) and need {np}",
        "(show|list|browse) {np_pl}",
        "{np_pl} please",
        "{np_pl} {post} please",
        "is there {np} {post}",
        "i want {np}",
        "i want {np} {post}",
        "hunting for {np}",
        "(on the lookout|looking around) for {np}",
        "what have you got in {np_pl}",
        "(hi|hello|hey)[,] (i'm|im) looking for {np}",
        "(hi|hello|hey)[,] do you have {np} {post}",
        "(hi|hey)[,] need {np}",
        "{brand} {stuff}",
        "anything from {brand}[?]",
        "show me (what you have from|your) {brand} {stuff}",
        "i (need|want) (a|some) new {np_bare}",
        "my {np_bare} (broke|died|is worn out)[,] (need|looking for) a new one {post}",
        "what's the {sort_pre} {np_bare} (you have|you've got)[?]",
        "(show me|find) the {sort_pre} {np_bare} {post}",
        "{sort_pre} {np_bare} {post}",
        "{np_pl} sorted by {sort_post}",
        "{np_pl} {post} (sorted|ordered) by {sort_post}",
        "{np_pl} (from|by) {sort_post}",
        "i'd like to see {np_pl} with {rating}",
        "{np_pl} with {rating}",
        "{np_pl} rated {rating_bare}",
        "gift for [(my )]{gender_gift}[,] [(maybe )]{np}",
        "looking for {np} as a gift for [(my )]{gender_gift}",
        "{np} for [(my )]{gender_gift}",
        "i (need|want) something for [(my )]{gender_gift}, (maybe|like) {np}",
    ),
    "refine": (
        "actually {price}",
        "actually[,] {price} please",
        "(actually|wait)[,] make it {price}",
        "{price} instead",
        "(can you|could you) (keep it|go) {price}",
        "only {price}",
        "(and|also) {price}",
        "(ok|okay) now {price}",
        "hmm[,] {price}[?]",
        "too expensive[,] {price}",
        "those are (too pricey|too expensive|over my budget)[,] {price} please",
        "in {color} instead",
        "(in|got any in|do they come in|do you have them in|do you have those in|any in) {color}[?]",
        "what about {color}[?]",
        "how about [(in )]{color}[?]",
        "(i'd prefer|i prefer|rather have) {color}",
        "{color} (ones|one) (please|instead)",
        "show me [(the )]{color} ones",
        "show me [(only )]{color} ones {price}",
        "(just|only) the {color} ones",
        "same but in {color}",
        "(no|nah)[,] {color}",
        "(let's|lets) go with {color}",
        "change the (color|colour) to {color}",
        "what about {material}[?]",
        "(anything|something) in {material}[?]",
        "(any|got any) {material} ones[?]",
        "(only|just) {material}",
        "i'd rather have {material}",
        "made of {material} (please|instead|if possible)",
        "do you have (them|those|these) in {material}[?]",
        "(switch|change) to {material}",
        "(only|just) {brand}",
        "(only|just) from {brand}",
        "how about {brand}[?]",
        "what about {brand}[?]",
        "(do you have|any) {brand} ones[?]",
        "show me [(just )]the {brand} ones",
        "filter (to|by) {brand}",
        "(make it|in) [(size )]{size}",
        "size {size} please",
        "(do you have|got) (them|those|these) in [(size )]{size}[?]",
        "i need (a|size) {size}",
        "i wear [(a )][(size )]{size}",
        "(only|just) {size}",
        "what about for {gender_pp}",
        "for {gender_pp} (instead|please)",
        "(actually|oh) it's for {gender_pp}",
        "show me the {sort_pre} (ones|first|one)",
        "(sort|order) (by|them by) {sort_post}",
        "sort (by|them by|these by) {sort_post}",
        "(order|rank) (them|these|the results) by {sort_post}",
        "[(can you )]sort (by|these by) {sort_post}",
        "(just|only) the {sort_pre} ones",
        "the {sort_pre} (please|first)",
        "(only|just) (ones|the ones) with {rating}",
        "{rating} only",
        "(filter|only show) [(ones )]rated {rating_bare}",
        "what about {type_pl} instead",
        "actually (show me|let's see) {type_pl} instead",
        "(make that|switch to) {type_pl}",
        "(in|any in) {color} and {price}",
        "{color} and {material}[,] please",
        "{material} ones {price}",
        "{color}[,] {size}",
        "[(can you )]narrow it down to {brand}",
        "(narrow|filter) (it|them) to {color}",
        "(no|not those)[,] something {price}",
        "(actually|hmm)[,] {color} {type_pl} instead",
        "[(also )](only|just) ones in stock {price}",
        "(less than|under) {amount_max} (would be|is) better",
        "my budget is [(actually )]{amount_max}",
        "something [(a bit )](cheaper|more affordable)[,] {price}",
        "(ok|okay)[,] {gender_pp} and {price}",
        "same thing but {brand}",
    ),
    "product_info": (
        "tell me more about {ord}",
        "[(more )](details|info|information) (on|about) {ord}",
        "what can you tell me about {ord}",
        "[(can you )]describe {ord}",
        "(show|open) {ord}",
        "what's {ord} made of",
        "what is {ord} made of",
        "how much is {ord}",
        "what's the price of {ord}",
        "what sizes does {ord} come in",
        "does {ord} come in {color}[?]",
        "does {ord} come in [(size )]{size}[?]",
        "is {ord} (in stock|available)[?]",
        "(is|are) {ord} {attr}[?]",
        "{attr_q}[?]",
        "{attr_q}[?]",
        "{attr_q}[?]",
        "{attr_q} (for|on) {ord}[?]",
        "(hmm|ok|so)[,] {attr_q}[?]",
        "what are the reviews like (for|on) {ord}[?]",
        "(how are|what are) the reviews[?]",
        "what's the rating (of|on) {ord}[?]",
        "what colors does (it|{ord}) come in[?]",
        "(does it come in|is it available in|do you have it in|can i get it in) {color}[?]",
        "(does it come in|is it available in|do you have it in|can i get it in) [(size )]{size}[?]",
        "tell me about the {brand} {type}",
        "(more info|details) on the {color} {type}",
        "is the {brand} {type} {attr}[?]",
        "what's the warranty (on|for) {ord}[?]",
        "how big is {ord}[?]",
        "what are the dimensions of {ord}[?]",
        "(can i|could i) see more (photos|pictures) of {ord}[?]",
        "is {ord} any good[?]",
        "what material is (it|{ord})[?]",
        "what's the difference between the sizes",
        "(how|when) (would|will) {ord} arrive if i order [(it )](today|now)",
        "does {ord} have good reviews",
        "what brand is {ord}[?]",
        "who makes {ord}[?]",
        "is {ord} (true|true to) size[?]",
        "(is|are) the {material} one {attr}[?]",
        "what's the (return policy|warranty) on the {type}[?]",
    ),
    "compare": (
        "compare {ords}",
        "[(can you )]compare {ords}",
        "compare {ord_a} (and|with|to) {ord_b}",
        "what's the difference between {ord_a} and {ord_b}[?]",
        "{ord_a} (vs|versus|or) {ord_b}[?]",
        "which is better[,] {ord_a} or {ord_b}[?]",
        "(is|are) {ord_a} better than {ord_b}[?]",
        "how does {ord_a} compare (to|with) {ord_b}[?]",
        "(put|show) {ords} side by side",
        "side by side [(comparison )]of {ords}",
        "help me (choose|decide|pick) between {ords}",
        "(compare them|compare these|compare those|compare all of them|compare these two)",
        "which (one|of these) is (better|cheaper|lighter|more comfortable|better value)[?]",
        "what's the difference between them[?]",
        "how do {ords} differ[?]",
        "[(can you )](compare|contrast) {ords} for me",
        "which [(one )]should i get[,] {ord_a} or {ord_b}[?]",
        "i can't decide between {ords}",
        "(pros and cons|differences) of {ords}",
        "compare the {brand} one (and|with) {ord_b}",
        "(is|how is) {ord_a} different from {ord_b}[?]",
        "which has better reviews[,] {ord_a} or {ord_b}[?]",
        "{ords}[,] which is (better|cheaper)[?]",
    ),
    "recommend": (
        "what do you recommend[?]",
        "what would you (recommend|suggest)[?]",
        "any (suggestions|recommendations|ideas)[?]",
        "(recommend|suggest) [(me )](a|some|a good) {np_bare}",
        "[(can you )](recommend|suggest) (a|some|a good) {np_bare} {post}",
        "what's a good {np_bare} {post}[?]",
        "what's a good gift for [(my )]{gender_gift}[?]",
        "what's a good gift for [(my )]{gender_gift} {price}[?]",
        "gift ideas for [(my )]{gender_gift}[?]",
        "i need gift ideas for [(my )]{gender_gift} {price}",
        "i don't know what to get [(my )]{gender_gift}",
        "what goes [(well )]with {ord}[?]",
        "what would match {ord}[?]",
        "what should i (get|buy)[?]",
        "help me pick (a|some) {np_bare}",
        "which {type} would you recommend[?]",
        "which {type_pl} do you recommend {post}[?]",
        "what's your (top pick|favorite|favourite) (for|in) {type_pl}[?]",
        "any recommendations for {np_bare} {post}[?]",
        "what's (popular|trending) (right now|in {type_pl})[?]",
        "surprise me",
        "what do people [(usually )]buy with {ord}[?]",
        "what would you pick[?]",
        "(suggest|recommend) something for {gender_pp}",
        "(suggest|recommend) something (to go with|that goes with|to match) {ord}",
        "i need (ideas|inspiration) for {np_bare}",
        "what should i get for [(my )]{gender_gift} who likes {type_pl}[?]",
        "(what|which) {type} (should i get|is worth it|would suit me)[?]",
        "[(can you )]recommend something {price}",
        "i'm not sure what (i want|to get)[,] (any ideas|can you help)[?]",
        "(what|which) {np_bare} (would you|do you) recommend for (a beginner|everyday use|travel|work)[?]",
    ),
    "add_to_cart": (
        "add {ord} to [(my )](cart|basket|bag)",
        "(put|throw|stick) {ord} in (my|the) (cart|basket|bag)",
        "i'll take {ord}",
        "(i'll|i will) (take|get|buy) {ord}",
        "add {qty} of (those|them|these|{ord}) to [(my )](cart|basket)",
        "add {qty} (of those|of them|to my cart|to cart)",
        "i'll take {qty}",
        "i'll take {qty} of (those|them|{ord})",
        "(i want|i'd like) {qty} of (those|these|{ord})",
        "[(please )]add (it|that|this one|this) to [(my )](cart|basket|bag)",
        "add (it|that)",
        "(yes|yeah|ok)[,] add (it|that|{ord})",
        "buy {ord}",
        "(i want to|i'd like to) buy {ord}",
        "add {ord} in [(size )]{size}",
        "add {ord} in {color}",
        "i'll get {ord} in {color}",
        "add {qty} in [(size )]{size}",
        "add {qty} of {ord} in {color} to [(my )]cart",
        "(put|add) {qty} in (the|my) (bag|basket|cart)",
        "(cart it|add to cart|add to basket|add to bag)",
        "get me {qty} of those",
        "grab {ord} [(for me)]",
        "i'll buy it",
        "add the {brand} {type} to [(my )]cart",
        "add the {color} {type} to my (cart|basket)",
        "add the {color} one",
        "[(can you )](put|add|throw) the {type} in[(to)] my (cart|basket|bag)",
        "(add|get) me the {type}",
        "i('ll| will) take the {type}",
        "(add|put) the {material} one in my cart",
        "[(yes )]add {qty} of the {type_pl}",
        "(i'd like|i want) to order {qty} of {ord}",
        "add another one",
        "[(can you )]add {ord} [(to my cart )]in {size}",
        "i'll take the {brand} one",
        "add {ord}[,] please",
        "{ord} (looks good|is perfect)[,] add it",
        "(let's|lets) go with {ord}",
        "add {qty} {type_pl} to [(my )]cart",
        "i want {qty} of the {color} ones",
        # quantity changes of what was just added ("make that two")
        "[(actually )](make|change) (it|that|this) {qty}[( please| instead)]",
        "[(actually )](make|change) (it|that) {qty} (of them|of those|instead)",
        "(change|update|set) the quantity to {qty}",
        "(i'll|i will) take {qty} instead",
        "(can i|could i) (get|have) {qty} (instead|of those)[?]",
    ),
    "remove_from_cart": (
        "remove {ord} from [(my )](cart|basket|bag)",
        "(take|get) {ord} out of (my|the) (cart|basket|bag)",
        "take out the {type}",
        "(delete|drop|remove) {ord}",
        "i don't want the {type} anymore",
        "i (don't|do not) want {ord} anymore",
        "remove {qty} of the {type_pl}",
        "remove {qty} of (those|them|{ord})",
        "take {qty} of the {type_pl} out",
        "get rid of {ord}",
        "get rid of the {brand} {type}",
        "drop the {brand} {type}",
        "remove the {color} {type} from my cart",
        "(remove|delete) (it|that|this) (from [(my )](cart|basket))?",
        "(empty|clear) my (cart|basket|bag)",
        "remove everything from my cart",
        "take the {type} out",
        "(actually|hmm)[,] remove {ord}",
        "(never mind|nevermind)[,] (remove|take out) the {type}",
        "[(can you )]remove {qty} (from [(my )]cart)?",
        "i changed my mind about the {type}[,] remove it",
        "(delete|remove) the {material} one",
        "(only|just) keep {ord}[,] remove the rest",
        "remove {ord} (please|pls)",
        "i [(only )]need {qty}[,] remove the (other|extra) ones",
        "take off the {color} one",
        "[(please )]remove the {brand} one",
    ),
    "view_cart": (
        "what's in my (cart|basket|bag)[?]",
        "what is in my (cart|basket|bag)[?]",
        "show [(me )]my (cart|basket|bag)",
        "(view|open|see|check) [(my )](cart|basket|bag)",
        "(cart|basket|my cart|my basket)",
        "my cart please",
        "how much is my (total|cart)[?]",
        "what's my total[?]",
        "what have i (added|got) so far[?]",
        "review my (cart|order|basket)",
        "how many (items|things) (are|do i have) in my (cart|basket)[?]",
        "(list|show) (everything|what's|what is) in my cart",
        "can i see my cart[?]",
        "take me to (my|the) (cart|basket)",
        "what's the total (so far|now)[?]",
        "(let me see|lemme see) (my|the) (cart|basket)",
        "what did i put in my (cart|basket)[?]",
        "(cart|basket) summary",
        "whats in the cart",
        "how much do i owe [(so far)][?]",
    ),
    "checkout": (
        "(checkout|check out)",
        "i'm ready to (pay|check out|checkout|order)",
        "(let's|lets) check out",
        "(let's|lets) checkout",
        "proceed to (checkout|payment)",
        "(place|submit) (my|the) order",
        "i want to pay [(now)]",
        "(buy|order) (it|everything|all of it) now",
        "complete (my|the) (purchase|order)",
        "(finish|finalize) my order",
        "(go to|take me to) (payment|checkout)",
        "pay now",
        "that's (all|everything)[,] (let's|lets) pay",
        "i'd like to place (an|my) order",
        "ready to (order|buy|pay)",
        "take my money",
        "confirm [(my )](purchase|order)",
        "how do i (pay|check out|checkout)[?]",
        "(ok|okay|great)[,] (checkout|check out) please",
        "i'm done shopping[,] (checkout|check out|let's pay)",
        "(i want to|let me) (check out|checkout) [(now)]",
        "(can i|can we) (check out|pay) [(now)][?]",
        "(place|put through) the order (please|now)",
        "(buy|purchase) (everything|what's) in my (cart|basket)",
        "let's (wrap this up|finish up) and pay",
        "i'll pay (now|with card)",
        "start checkout",
    ),
    "order_status": (
        "where is my order {oid}[?]",
        "where's my order[?]",
        "track [(my )]order {oid}",
        "(track|trace) my (order|package|parcel)",
        "[(what's the )]status of [(my )]order {oid}[?]",
        "order {oid} status",
        "has [(my )]order {oid} (shipped|been shipped|been delivered|arrived) [(yet)][?]",
        "has my order shipped [(yet)][?]",
        "when will my (order|package|parcel) (arrive|get here|be delivered)[?]",
        "when will order {oid} (arrive|be delivered|ship)[?]",
        "what's happening with [(order )]{oid}[?]",
        "is [(order )]{oid} (delivered|shipped|on its way) [(yet)][?]",
        "my (package|order) (hasn't|has not|never) arrived",
        "where's my (stuff|package|delivery)[?]",
        "can you check on order [(number )]{oid}[?]",
        "(i placed|i made) an order (yesterday|last week|a few days ago)[,] where is it[?]",
        "any update on [(my )](order|delivery|shipment)[( {oid})][?]",
        "(check|look up) order [(number )]{oid}",
        "(order|order number|order no|order #) {oid}",
        "(hi|hey)[,] [(can you tell me )]where my order {oid} is",
        "i want to know (the status of|where) my order {oid}",
        "did order {oid} ship[?]",
        "tracking (info|information|number) for [(order )]{oid}",
        "(my order number is|the order is|it's order) {oid}",
        "{oid}",
        "is my order on the way[?]",
        "when does my order (ship|arrive)[?]",
        "i'm still waiting for my order {oid}",
    ),
    "price_advice": (
        "is (this|that|it) a good price[?]",
        "is {ord} a good (deal|price)[?]",
        "will (it|this|{ord}) get cheaper[?]",
        "should i buy (it|{ord}) now or wait[?]",
        "(is|will) the price (going to|gonna) (drop|go down)[?]",
        "has the price of {ord} (gone down|dropped|changed) [(lately|recently)][?]",
        "is now a good time to buy (it|{ord}|the {type})[?]",
        "will {ord} go on sale [(soon)][?]",
        "is (that|this|the) price fair[?]",
        "was (it|{ord}) cheaper before[?]",
        "[(show me the )]price history (for|of) {ord}",
        "should i wait for a (sale|discount|price drop) on {ord}[?]",
        "is {ord} overpriced[?]",
        "will the {type} go on sale [(soon|for black friday|this month)][?]",
        "is the {brand} {type} (a good deal|worth the price|fairly priced)[?]",
        "(are there|any) sales coming up on the {brand} {type}[?]",
        "will (it|the {type}) be cheaper (on|during|around) (black friday|the holidays|next month)[?]",
        "(buy now or wait|wait or buy now)[?]",
        "is the {type} (worth|worth the money|worth it) at this price[?]",
        "how does this price compare to (usual|normal|before)[?]",
        "is this the lowest (it's|it has) been[?]",
        "(do you think|will) the price [(will )]drop[?]",
        "what's the best time to buy (it|{ord}|a {type})[?]",
        "(is it|is this) on sale [(right now)][?]",
        "(has|did) (it|the price) ever (been|go) lower[?]",
        "good deal or not[?]",
    ),
    "price_alert": (
        "tell me (if|when) (it|{ord}) drops below {amount_max}",
        "alert me when {ord} goes on sale",
        "alert me (if|when) (it|the price) (drops|goes down|falls)",
        "notify me when the price drops",
        "(let me know|tell me) if the {type} (gets|goes|drops) (under|below) {amount_max}",
        "watch the price (of|on) {ord}",
        "set [(up )]a price alert for {ord}[( at {amount_max})]",
        "(email|text|ping|message) me when (it's|it is|it goes) (under|below) {amount_max}",
        "ping me if {ord} drops to {amount_max}",
        "(track|monitor) the price of {ord}",
        "can you alert me if it goes below {amount_max}[?]",
        "i want a price drop (notification|alert)",
        "let me know when (it's|it gets) cheaper",
        "notify me if the {brand} {type} (drops|falls) (below|under) {amount_max}",
        "(create|make|add) a price alert[( for {amount_max})]",
        "alert me if {ord} is ever (under|below) {amount_max}",
        "(keep an eye on|watch) {ord} for me",
        "(send me|i want) an alert when the {type} (is on sale|goes on sale|drops in price)",
        "(tell|let) me [(know )]when [(the )]price (drops|falls) (under|below) {amount_max}",
        "if (it|{ord}) (drops|gets|goes) (below|under|to) {amount_max}[,] (let me know|tell me|notify me)",
        "(remind|notify) me when {ord} (is|gets) (discounted|cheaper)",
        "price alert (for {ord}|please|on this)",
        "set an alert at {amount_max}",
    ),
    "human_handoff": (
        "(can i|could i|let me) (talk|speak|chat) (to|with) (a|an) (human|person|agent|representative)",
        "(agent|human|representative|operator)[( please| pls)]",
        "(real|live) (person|agent|human)[( please)]",
        "i want to (speak|talk) to (someone|somebody|a person|a human|an agent|customer service)",
        "(get|put) me (a|the) manager",
        "customer (service|support)[( please)]",
        "connect me (to|with) (support|an agent|a human|customer service|someone)",
        "this (bot|chatbot|thing) is (useless|not helping)[,] (human|person|agent) please",
        "transfer me (to (a|an) (human|agent|person))?",
        "is there a (person|human|real person) i can (chat|talk) (to|with)[?]",
        "i need [(help from )](a|an) (person|human|agent)",
        "[(can you )](escalate|hand me over|pass me) [(this )]to (a|an) (human|agent|person|supervisor)",
        "(you're|youre|you are) not (helping|understanding me)[,] (get|find) me (someone|a human)",
        "(talk|speak) to (support|sales|a human|someone)",
        "i'd like to (talk|speak) to (someone|a real person|your support team)",
        "[(please )]let me talk to someone",
        "(how do i|can i) (reach|contact) (a human|support|customer service|an agent)[?]",
        "i (have|got) a complaint[,] (i need|get me) (a|an) (person|manager|agent)",
        "(stop|enough)[,] (i want|give me) a (human|real person)",
        "call me [(please)]",
        "(need|want) [(to talk to )](a human|a real person|an actual person)",
    ),
    "greet": (
        "(hi|hello|hey|hiya|howdy|yo|heya|hey there|hi there|hello there)[!]",
        "(hi|hello|hey)[,] (anyone there|is anyone there|are you there)[?]",
        "good (morning|afternoon|evening)[!]",
        "(morning|evening)[!]",
        "greetings",
        "(sup|what's up|whats up)",
        "(hi|hey|hello) (bot|shopassist|assistant|there)[!]",
        "hello[,] how are you[?]",
        "hey hey",
        "(hi|hello|hey)[,] (how's it going|how are you doing|how are ya)[?]",
        "(hi|hey|hello)[,] i (need|could use) some help",
        "(hi|hey|hello)[,] can you help me[?]",
        "(hi|hello)[,] nice to meet you",
        "(hey|hi)[,] i have a question",
        "[(oh )]hi",
        "(hello|hi)[,] (i'm|im) new here",
        "(good day|g'day)",
        "hi (again|folks|friend)",
        "(hey|hi)[,] what can you do[?]",
    ),
    "goodbye": (
        "(bye|goodbye|bye bye|see ya|see you|later|cya|ciao)[!]",
        "(thanks|thank you|thx|cheers)[,] that's all",
        "that's all for (now|today)",
        "(i'm|im|i am) done[,] (thanks|thank you)",
        "have a (good|great|nice) (day|one|night|evening)",
        "(cheers|thanks)[,] bye",
        "talk [(to you )]later",
        "thanks for (your|the) help[,] bye",
        "(ok|okay|alright)[,] bye",
        "see you (soon|later|next time)",
        "that will be all",
        "nothing else[,] (thanks|thank you)",
        "good night",
        "catch you later",
        "(i'm|im) good[,] thanks[,] bye",
        "(that's it|that is it) for (today|now)[,] (thanks|bye)",
        "(gotta|have to|need to) go[,] bye",
        "(thanks|thank you)[,] (you've been|you were) (a great help|very helpful)[,] bye",
        "(ok|okay) (thanks|thank you)[,] (goodbye|bye)",
        "(no more questions|all set)[,] (bye|thanks)",
        "(signing off|logging off)",
        "(bye for now|until next time)",
    ),
    "affirm": (
        "(yes|yeah|yep|yup|yea|ya|sure|ok|okay|k|correct|right|absolutely|definitely|certainly)[!]",
        "yes please",
        "(yes|yeah|sure)[,] (please|do it|go ahead|that's right|that works|sounds good)",
        "sounds (good|great|perfect)",
        "(that's|thats|that is) (right|correct|it|perfect|the one)",
        "(do it|go ahead|go for it|please do|let's do it|lets do it)",
        "(of course|sure thing|why not|you bet|for sure|100%)",
        "(that works|works for me|fine by me|fine with me)",
        "(perfect|great|awesome|excellent)[,] (yes|yep)",
        "(exactly|precisely|bingo)",
        "(uh huh|mhm|yeah sure|ok sure)",
        "(confirm|confirmed|i confirm)",
        "(yes|yep)[,] (that's|thats) (what i want|the one|correct)",
        "(sure|yes)[,] why not",
        "(ok|okay)[,] (sounds good|let's do that|go ahead)",
        "(yes|yeah)[,] i (do|would|am|want that)",
        "affirmative",
        "(yes|yep) (please|pls|plz)",
        "(totally|indeed|true)",
    ),
    "deny": (
        "(no|nope|nah|no way|negative|not really|nay)[!]",
        "no (thanks|thank you)",
        "(no|nope)[,] (that's|thats) (wrong|not it|not right|not what i meant)",
        "(don't|do not|please don't)[( do that)]",
        "(never mind|nevermind|forget it)",
        "not (now|today|right now|yet)",
        "(not that one|not those|not this one)",
        "i don't think so",
        "(no|nah)[,] i'm good",
        "(stop|cancel|cancel that)",
        "(wrong|incorrect|that's incorrect)",
        "not interested",
        "(nah|no)[,] (that's|that is) (ok|okay|fine)",
        "(no|nope)[,] (i don't|i do not) (want|need) (that|it|them)",
        "absolutely not",
        "(no|nah)[,] (skip|pass)",
        "(not for me|i'll pass|pass)",
        "(no|nope) (please|pls)",
        "(definitely|certainly) not",
        "[(hmm )](no|nope)[,] (not quite|not exactly)",
    ),
    "out_of_scope": (
        "{oos}",
        "{oos}",
        "{oos}",
        "{gibberish}",
        "(hey|so|um)[,] {oos}",
    ),
}

_OOS = (
    "what's the weather [(like )](today|tomorrow|this weekend)[?]",
    "who should i vote for[?]",
    "(which|what) party (should i|do you) (support|vote for)[?]",
    "(what's|what is|whats) (12|15|7|99|three|twenty) (times|plus|minus|divided by) (4|12|8|six|two)[?]",
    "(calculate|compute|solve) (2x + 3 = 7|the area of a circle|15% of 80)",
    "(is|was) (the moon landing|climate change) (real|fake)[?]",
    "is it going to rain (today|tomorrow)[?]",
    "tell me a joke",
    "(do you know|tell me) (a|any) [(good )]jokes[?]",
    "who (won|is winning) the election[?]",
    "what do you think about (the president|politics|the government)[?]",
    "(write|give) me a python (script|function) (to|that) (sort a list|parse json|reverse a string)",
    "how do i (fix|debug) (this|my) (code|javascript error|python error)[?]",
    "what's (2|two) plus (2|two)[?]",
    "(what's|what is) the square root of (144|2)[?]",
    "(who won|what was the score of) the game last night[?]",
    "(give me|what's) a (recipe|good recipe) for (lasagna|pancakes|chili)",
    "how do i cook (rice|pasta|salmon)[?]",
    "(book|find) me a flight to (paris|new york|tokyo)",
    "what time is it[?]",
    "(play|put on) some (music|jazz)",
    "translate (this|hello) (to|into) (french|spanish)",
    "do you love me[?]",
    "who is the (president|prime minister) of (france|the us|canada)[?]",
    "what's the stock price of (tesla|apple)[?]",
    "how tall is mount everest[?]",
    "what movies are playing (tonight|this weekend)[?]",
    "[(can you )]help [(me )]with my [(math )]homework",
    "i (feel|am feeling) sick[,] what should i do[?]",
    "what's the meaning of life[?]",
    "are you (a robot|human|sentient|alive)[?]",
    "what's your (name|favorite color|favourite food)[?]",
    "(sing|write) me a (song|poem)",
    "how far is the moon[?]",
    "(what's|what is) the capital of (australia|peru|canada)[?]",
    "(who|what) is (elon musk|taylor swift|bitcoin)[?]",
    "(should i|can you help me) (invest in|buy) (crypto|stocks)[?]",
    "how do i (lose weight|sleep better|learn guitar)[?]",
    "my (car|bike) (won't|will not) start",
    "(what's|what is) the news today[?]",
    "(call|text) my mom",
    "set (a|an) (alarm|timer|reminder) for (7am|ten minutes|tomorrow)",
    "(is|are) (cats|dogs) better[?]",
    "(how many|how much) (calories|protein) in (a banana|an egg)[?]",
    "where is the nearest (hospital|gas station|pharmacy)[?]",
    "(explain|what is) quantum (physics|computing)",
    "(do you|can you) (dream|feel|think)[?]",
    "i'm bored",
    "(what should i|where should i) (watch|eat|go) (tonight|for dinner)[?]",
    "(asdf|asdfgh|qwerty|lkjh|jjjj|hmmmmm|blah blah|test test|testing)",
    "(lol|haha|hahaha|lmao)",
    "(banana|pizza|potato|purple monkey dishwasher)",
    "(quiero|necesito) (zapatos|una camisa|un sofá) (rojos|azul|barato)",
    "(dónde está|donde esta) (el baño|mi pedido)[?]",
    "(je voudrais|je cherche) (un café|une robe|des chaussures)",
    "(wie spät ist es|ich suche eine jacke|wo ist mein paket)[?]",
    "(bonjour|hola|hallo|ciao|ola)[,] (comment ça va|cómo estás|wie geht's|come stai)[?]",
    "(gracias|merci|danke)[,] (por favor|s'il vous plaît|bitte)",
    "(onde fica|eu quero) (a loja|um vestido)[?]",
    "(how do i|can you) (hack|break into) (an account|a website)[?]",
    "(write|draft) (an email|a cover letter|an essay) for me",
    "(what|which) (team|sport) do you like[?]",
    "(is it|will it be) (sunny|cold|hot) (in london|tomorrow|this weekend)[?]",
    "(tell me|give me) a fun fact",
    "[(can you )](order|get) me a pizza",
    "how do i renew my (passport|driver's license)[?]",
    "(what's|what is) (the date|today's date)[?]",
    "(convert|what's) (100 dollars|10 miles) (to|in) (euros|km)",
    "(who|what) (made|created|built) you[?]",
    "(i hate|i love) (mondays|my job|rain)",
    "(can you|do you) speak (spanish|french|german)[?]",
    "(what's|whats) (up with|going on in) the world[?]",
    "my (wifi|internet) is (slow|down)",
    "(recommend|suggest) a (movie|book|tv show|podcast)",
    "(what's|what is) the best (restaurant|pizza place) (near me|in town)[?]",
)

# product words that shoppers use for a brand's range without a type
_STUFF = ("stuff", "products", "items", "things", "gear", "collection", "range", "deals", "stuff on sale")


class ExampleGenerator:
    """Fills the templates of every intent from a vocabulary, deterministically for a seed.

    ``vocabulary``: the catalog's own words (its own category in the generator);
    ``builtin``: the built-in categories filtered to the training split of the vocabulary;
    ``only``: restrict every product type / brand / colour / material to these values (used to
    build the held-out test slice).
    """

    def __init__(
        self,
        vocabulary: CatalogVocabulary | None = None,
        *,
        seed: int = 0,
        holdout: CatalogVocabulary | None = None,
        only: CatalogVocabulary | None = None,
        catalog_share: float = 0.3,
        noise: float = 1.0,
        spoken_share: float = 0.12,
    ) -> None:
        self.rng = random.Random(seed)
        self.noise = noise
        self.spoken_share = spoken_share
        held = holdout or CatalogVocabulary()
        drop_types, drop_brands = set(held.product_types), set(held.brands)
        drop_colors, drop_materials = set(held.colors), set(held.materials)
        cats: list[Category] = []
        for cat in BUILTIN_CATEGORIES:
            types = tuple(_canon_type(t) for t in cat.product_types)
            types = tuple(dict.fromkeys(t for t in types if t not in drop_types))
            brands = tuple(dict.fromkeys(canonical_brand(b) for b in cat.brands))
            brands = tuple(b for b in brands if b not in drop_brands)
            materials = tuple(m for m in cat.materials if m not in drop_materials)
            if only is not None:
                types = tuple(t for t in types if t in set(only.product_types)) or types
                brands = tuple(b for b in brands if b in set(only.brands)) or brands
                materials = tuple(m for m in materials if m in set(only.materials)) or materials
            cats.append(
                Category(
                    cat.name,
                    types,
                    brands or cat.brands,
                    materials or cat.materials,
                    cat.size_kind,
                    cat.genders,
                    cat.attributes,
                )
            )
        self.colors: tuple[str, ...] = tuple(c for c in BUILTIN_COLORS if c not in drop_colors)
        if only is not None:
            cats = [c for c in cats if any(t in set(only.product_types) for t in c.product_types)]
            self.colors = only.colors or self.colors
        self.catalog: Category | None = None
        self.catalog_sizes: tuple[str, ...] = ()
        self.catalog_colors: tuple[str, ...] = ()
        if vocabulary is not None and vocabulary.product_types and only is None:
            apparel = next(c for c in BUILTIN_CATEGORIES if c.name == "apparel")
            brands = tuple(b for b in vocabulary.brands if b not in _AMBIGUOUS_BRANDS and len(b) > 2)
            self.catalog = Category(
                "catalog",
                vocabulary.product_types,
                brands or apparel.brands,
                tuple(
                    dict.fromkeys(
                        vocabulary.materials + tuple(m for m in apparel.materials if m not in drop_materials)
                    )
                ),
                "catalog",
                True,
                apparel.attributes,
            )
            self.catalog_sizes = vocabulary.sizes
            if vocabulary.colors:
                self.colors = tuple(dict.fromkeys(self.colors + vocabulary.colors))
            self.catalog_colors = vocabulary.colors
        self.categories = cats
        self.catalog_share = catalog_share if self.catalog is not None else 0.0
        self._fillers: dict[str, Callable[[_Utt], None]] = {
            "np": self._f_np,
            "np_pl": self._f_np_pl,
            "np_bare": self._f_np_bare,
            "post": self._f_post,
            "type": self._f_type,
            "type_pl": self._f_type_pl,
            "color": self._f_color,
            "material": self._f_material,
            "brand": self._f_brand,
            "size": self._f_size,
            "gender_pp": self._f_gender_pp,
            "gender_gift": self._f_gender_gift,
            "price": self._f_price,
            "amount_max": self._f_amount_max,
            "rating": self._f_rating,
            "rating_bare": self._f_rating_bare,
            "sort_pre": self._f_sort_pre,
            "sort_post": self._f_sort_post,
            "qty": self._f_qty,
            "ord": self._f_ord,
            "ord_a": self._f_ord,
            "ord_b": self._f_ord,
            "ords": self._f_ords,
            "oid": self._f_oid,
            "attr": self._f_attr,
            "attr_q": self._f_attr_q,
            "oos": self._f_oos,
            "stuff": self._f_stuff,
            "gibberish": self._f_gibberish,
            "extra": self._f_extra,
        }

    # ------------------------------------------------------------------ public
    def generate(self, n: int, *, weights: dict[str, float] | None = None) -> list[Example]:
        """``n`` examples with intents in proportion to ``weights`` (deterministic order)."""
        w = weights or DEFAULT_INTENT_WEIGHTS
        total = sum(w.values())
        counts = {k: max(1, round(n * v / total)) for k, v in w.items() if v > 0}
        plan = [intent for intent in INTENTS if intent in counts for _ in range(counts[intent])]
        self.rng.shuffle(plan)
        return [self.example(intent) for intent in plan]

    def example(self, intent: str) -> Example:
        """One example of ``intent``."""
        for _ in range(20):
            utt = self._build(intent)
            ex = self._finish(utt)
            if ex.tokens:
                return ex
        raise RuntimeError(f"could not build an example for {intent}")  # pragma: no cover

    # ------------------------------------------------------------------ building
    def _pick_category(self) -> Category:
        if self.catalog is not None and self.rng.random() < self.catalog_share:
            return self.catalog
        return self.rng.choice(self.categories)

    def _build(self, intent: str) -> _Utt:
        rng = self.rng
        spoken = rng.random() < self.spoken_share * self.noise
        utt = _Utt(intent=intent, cat=self._pick_category(), spoken=spoken)
        template = rng.choice(_T[intent])
        if "{gender" in template:
            utt.reserved.add("gender")
        for name, slot in (
            ("{color}", "color"),
            ("{material}", "material"),
            ("{brand}", "brand"),
            ("{size}", "size"),
            ("{sort_pre}", "sort"),
        ):
            if name in template:
                utt.reserved.add(slot)
        self._render(utt, template)
        return utt

    def _render(self, utt: _Utt, template: str) -> None:
        text = _expand(template, self.rng)
        for part in re.split(r"(\{\w+\})", text):
            if not part:
                continue
            if part.startswith("{") and part.endswith("}"):
                self._fillers[part[1:-1]](utt)
            else:
                for piece in part.split():
                    utt.lit(piece)

    # ------------------------------------------------------------------ fillers
    def _f_oos(self, utt: _Utt) -> None:
        self._render(utt, self.rng.choice(_OOS))

    def _f_gibberish(self, utt: _Utt) -> None:
        """Keyboard mashing, repeated letters, one very long "word"."""
        rng = self.rng
        form = rng.randrange(4)
        if form == 0:
            for _ in range(rng.randint(1, 4)):
                utt.lit("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 12))))
        elif form == 1:
            utt.lit(rng.choice(string.ascii_lowercase) * rng.randint(3, 60))
        elif form == 2:
            row = rng.choice(("qwertyuiop", "asdfghjkl", "zxcvbnm"))
            utt.lit("".join(rng.choice(row) for _ in range(rng.randint(4, 30))))
        else:
            utt.lit(rng.choice(("?", "??", "...", ":)", ":(", "lol", "ok?", "hmm?", "what", "huh", "test")))

    def _f_extra(self, utt: _Utt) -> None:
        """Numbers that are no slot: "for 4 people", "set of 6", "for a 7 year old"."""
        rng = self.rng
        n = rng.randint(2, 12)
        num = str(n) if rng.random() < 0.6 else number_to_words(n)
        phrase = rng.choice(
            (
                "for {n} people",
                "set of {n}",
                "for a {n} year old",
                "{n} pack",
                "pack of {n}",
                "{n} seater",
                "with {n} drawers",
                "with {n} shelves",
                "for a family of {n}",
                "{n} piece",
                "for my {n} year old",
                "{n} person",
                "with {n} pockets",
                "that fits {n}",
                "{n} in a pack",
            )
        )
        for piece in phrase.format(n=num).split():
            utt.lit(piece)

    def _f_stuff(self, utt: _Utt) -> None:
        utt.lit(self.rng.choice(_STUFF))

    def _type_value(self, utt: _Utt) -> str:
        return self.rng.choice(utt.cat.product_types)

    def _f_type(self, utt: _Utt) -> None:
        t = self._type_value(utt)
        surface = t if self.rng.random() < 0.75 else pluralize(t)
        utt.slot(surface, "product_type", t)

    def _f_type_pl(self, utt: _Utt) -> None:
        t = self._type_value(utt)
        surface = pluralize(t) if self.rng.random() < 0.85 else t
        utt.slot(surface, "product_type", t)

    def _color_value(self, utt: _Utt) -> str:
        if utt.cat.name == "catalog" and self.catalog_colors and self.rng.random() < 0.6:
            return self.rng.choice(self.catalog_colors)
        return self.rng.choice(self.colors)

    def _f_color(self, utt: _Utt) -> None:
        c = self._color_value(utt)
        utt.slot(_case_variant(c, self.rng), "color", c)

    def _f_material(self, utt: _Utt) -> None:
        m = self.rng.choice(utt.cat.materials)
        utt.slot(m, "material", m)

    def _f_brand(self, utt: _Utt) -> None:
        b = self.rng.choice(utt.cat.brands)
        utt.slot(_brand_surface(b, self.rng), "brand", b)

    def _size_value(self, utt: _Utt) -> str:
        kind = utt.cat.size_kind
        if kind == "catalog":
            pool = self.catalog_sizes or SIZE_KINDS["apparel"]
            if self.rng.random() < 0.4:
                pool = SIZE_KINDS["apparel"] + SIZE_KINDS["shoe"]
            return self.rng.choice(pool)
        return self.rng.choice(SIZE_KINDS[kind])

    def _f_size(self, utt: _Utt) -> None:
        s = self._size_value(utt)
        utt.slot(_size_surface(s, utt.spoken, self.rng), "size", s)

    def _f_gender_pp(self, utt: _Utt) -> None:
        rng = self.rng
        g = rng.choice(("men", "women", "men", "women", "boys", "girls"))
        words = {
            "men": (
                "men",
                "him",
                "a man",
                "guys",
                "my husband",
                "my boyfriend",
                "my dad",
                "gentlemen",
                "my brother",
                "a guy",
                "males",
            ),
            "women": (
                "women",
                "her",
                "a woman",
                "ladies",
                "my wife",
                "my girlfriend",
                "my mom",
                "my mother",
                "my sister",
                "a lady",
                "females",
            ),
            "boys": ("boys", "a boy", "my son", "my nephew", "a little boy"),
            "girls": ("girls", "a girl", "my daughter", "my niece", "a little girl"),
        }[g]
        w = rng.choice(words)
        utt.lit("for")
        head, _, last = w.rpartition(" ")
        if head:
            utt.lit(head)
        utt.slot(last, "gender", g)

    def _f_gender_gift(self, utt: _Utt) -> None:
        rng = self.rng
        g = rng.choice(("men", "women", "boys", "girls"))
        w = rng.choice(
            {
                "men": ("husband", "boyfriend", "dad", "father", "brother", "grandpa", "him", "uncle"),
                "women": ("wife", "girlfriend", "mom", "mum", "mother", "sister", "grandma", "her", "aunt"),
                "boys": ("son", "nephew", "grandson"),
                "girls": ("daughter", "niece", "granddaughter"),
            }[g]
        )
        utt.slot(w, "gender", g)

    def _gender_adj(self, utt: _Utt) -> None:
        rng = self.rng
        g = rng.choice(("men", "women", "men", "women", "boys", "girls", "unisex"))
        if utt.cat.name == "toys":
            g = rng.choice(("boys", "girls"))
        forms = {
            "men": ("men's", "mens", "men's", "male", "men"),
            "women": ("women's", "womens", "ladies", "women's", "female", "women"),
            "boys": ("boys'", "boys", "boy's"),
            "girls": ("girls'", "girls", "girl's"),
            "unisex": ("unisex",),
        }[g]
        utt.slot(rng.choice(forms), "gender", g)

    # noun phrase: [sort] [brand] [gender] [size] [color] [material] TYPE
    def _np_core(self, utt: _Utt, *, plural: bool | None, article: bool) -> None:
        rng = self.rng
        t = self._type_value(utt)
        is_pl = plural if plural is not None else rng.random() < 0.55
        pre: list[Callable[[_Utt], None]] = []
        n_attr = rng.choice((0, 1, 1, 1, 2, 2, 2, 3, 3, 4))
        options: list[tuple[str, Callable[[_Utt], None]]] = [
            ("brand", self._f_brand),
            ("color", self._f_color),
            ("material", self._f_material),
        ]
        if utt.cat.genders:
            options.append(("gender", self._gender_adj))
        if utt.cat.size_kind in {"bed", "rug", "screen", "storage", "volume"}:
            options.append(("size", self._f_size))
        rng.shuffle(options)
        chosen = [o for o in options if not utt.has(o[0]) and o[0] not in utt.reserved][:n_attr]
        order = {"sort": 0, "brand": 1, "gender": 2, "size": 3, "color": 4, "material": 5}
        chosen.sort(key=lambda o: order[o[0]] + (rng.random() * 2.5 if o[0] in {"color", "material"} else 0))
        pre = [f for _, f in chosen]
        start = len(utt.segs)
        for f in pre:
            f(utt)
        surface = pluralize(t) if is_pl else t
        utt.slot(surface, "product_type", t)
        if article:
            first = utt.segs[start][0] if len(utt.segs) > start else surface
            if is_pl:
                if rng.random() < 0.3:
                    utt.segs.insert(start, (rng.choice(("some", "any")), None))
            elif rng.random() < 0.7:
                utt.segs.insert(start, ("an" if first[:1].lower() in "aeiou" else "a", None))

    def _f_np(self, utt: _Utt) -> None:
        self._np_core(utt, plural=None, article=True)

    def _f_np_pl(self, utt: _Utt) -> None:
        self._np_core(utt, plural=True, article=False)

    def _f_np_bare(self, utt: _Utt) -> None:
        self._np_core(utt, plural=False, article=False)

    def _f_post(self, utt: _Utt) -> None:
        rng = self.rng
        opts: list[tuple[str, Callable[[_Utt], None]]] = [
            ("price_max", self._f_price),
            ("price_max", self._f_price),
            ("color", self._post_color),
            ("material", self._post_material),
            ("brand", self._post_brand),
            ("rating_min", self._f_rating),
        ]
        if utt.cat.genders:
            opts += [("gender", self._f_gender_pp)]
        if utt.cat.size_kind in {"apparel", "shoe", "waist", "catalog", "kids"}:
            opts += [("size", self._post_size), ("size", self._post_size)]
        rng.shuffle(opts)
        k = rng.choice((1, 1, 1, 2, 2, 3))
        done = 0
        for slot, f in opts:
            if done >= k:
                break
            if (
                utt.has(slot)
                or slot in utt.reserved
                or (slot == "price_max" and (utt.has("price_min") or utt.has("price_max")))
            ):
                continue
            if done and rng.random() < 0.3:
                utt.lit(rng.choice(("and", "with", ",")))
            f(utt)
            done += 1

    def _post_color(self, utt: _Utt) -> None:
        utt.lit(self.rng.choice(("in", "in", "in the color", "colored", "in a")))
        self._f_color(utt)

    def _post_material(self, utt: _Utt) -> None:
        utt.lit(self.rng.choice(("made of", "in", "made from", "in real", "with a")))
        self._f_material(utt)

    def _post_brand(self, utt: _Utt) -> None:
        utt.lit(self.rng.choice(("by", "from", "made by", "from the brand")))
        self._f_brand(utt)

    def _post_size(self, utt: _Utt) -> None:
        rng = self.rng
        s = self._size_value(utt)
        letters = not any(ch.isdigit() for ch in s)
        cue = rng.choice(
            ("in size", "size", "in a size", "in a") if not letters else ("in size", "size", "in", "in a")
        )
        utt.lit(cue)
        utt.slot(_size_surface(s, utt.spoken, rng), "size", s)

    # prices -------------------------------------------------------------------
    def _amount(self, utt: _Utt) -> float:
        rng = self.rng
        hi = {
            "furniture": 3000,
            "bedding": 2000,
            "electronics": 3000,
            "kitchen": 800,
            "beauty": 150,
            "apparel": 300,
            "shoes": 300,
            "accessories": 1500,
            "sports": 2000,
            "toys": 200,
            "home decor": 600,
            "pets": 200,
        }.get(utt.cat.name, 500)
        v = rng.uniform(5, hi) if rng.random() < 0.7 else rng.uniform(5, 100)
        step = rng.choice((5, 10, 10, 25, 50, 50, 100, 100))
        if v >= 1000:
            step = rng.choice((100, 250, 500, 1000))
        v = max(step, round(v / step) * step)
        if rng.random() < 0.06 and not utt.spoken and v < 1000:
            v = v - 0.01
        if rng.random() < 0.04:
            v = rng.choice((20, 30, 40, 50, 60, 75, 99, 150, 199, 250, 299, 500))
        return round(float(v), 2)

    def _money(self, utt: _Utt, slot: str, value: float | None = None) -> float:
        v = value if value is not None else self._amount(utt)
        utt.slot(_money_surface(v, utt.spoken, self.rng), slot, v)
        return v

    def _f_amount_max(self, utt: _Utt) -> None:
        self._money(utt, "price_max")

    def _f_price(self, utt: _Utt) -> None:
        rng = self.rng
        kind = rng.choices(("max", "min", "range", "approx"), weights=(0.5, 0.2, 0.18, 0.12))[0]
        if kind == "max":
            if rng.random() < 0.8:
                utt.lit(rng.choice(_MAX_PRE))
                self._money(utt, "price_max")
            else:
                self._money(utt, "price_max")
                utt.lit(rng.choice(_MAX_POST))
        elif kind == "min":
            if rng.random() < 0.75:
                utt.lit(rng.choice(_MIN_PRE))
                self._money(utt, "price_min")
            else:
                self._money(utt, "price_min")
                utt.lit(rng.choice(_MIN_POST))
        elif kind == "range":
            a = self._amount(utt)
            b = self._amount(utt)
            if a == b:
                b = a * 2
            lo, hi = min(a, b), max(a, b)
            form = rng.randrange(6)
            if form == 0:
                utt.lit(rng.choice(("between", "somewhere between", "priced between")))
                self._money(utt, "price_min", lo)
                utt.lit("and")
                self._money(utt, "price_max", hi)
            elif form == 1 and not utt.spoken:
                self._money(utt, "price_min", lo)
                utt.lit(rng.choice(("-", "–", "to")))
                self._money(utt, "price_max", hi)
            elif form == 2:
                utt.lit(rng.choice(("from", "anywhere from")))
                self._money(utt, "price_min", lo)
                utt.lit("to")
                self._money(utt, "price_max", hi)
            elif form == 3:
                utt.lit("in the")
                self._money(utt, "price_min", lo)
                utt.lit("to")
                self._money(utt, "price_max", hi)
                utt.lit("range")
            elif form == 4:
                utt.lit(rng.choice(("at least", "over", "more than")))
                self._money(utt, "price_min", lo)
                utt.lit(
                    rng.choice(("but under", "but less than", "and under", "but no more than", "and below"))
                )
                self._money(utt, "price_max", hi)
            else:
                self._money(utt, "price_min", lo)
                utt.lit("to")
                self._money(utt, "price_max", hi)
                utt.lit(rng.choice(("dollars", "bucks", "budget", "price range")) if not utt.spoken else "")
        else:
            if rng.random() < 0.85:
                utt.lit(rng.choice(_APPROX_PRE))
                self._money(utt, "price_approx")
            else:
                utt.lit(rng.choice(("in the", "somewhere in the")))
                self._money(utt, "price_approx")
                utt.lit("range")

    def _f_rating(self, utt: _Utt) -> None:
        rng = self.rng
        r = rng.choice((3.0, 3.5, 4.0, 4.0, 4.0, 4.5, 4.5, 5.0, 4.2, 3.8))
        s = _rating_surface(r, utt.spoken, rng)
        form = rng.randrange(9)
        if form == 0:
            utt.lit(rng.choice(("with", "rated", "")))
            utt.slot(s, "rating_min", r)
            utt.lit(
                rng.choice(
                    (
                        "stars and up",
                        "stars or more",
                        "stars or higher",
                        "stars and above",
                        "star and up",
                        "stars plus",
                    )
                )
            )
        elif form == 1:
            utt.lit(rng.choice(("at least", "minimum", "no less than", "a minimum of", "min")))
            utt.slot(s, "rating_min", r)
            utt.lit(rng.choice(("stars", "star", "star rating", "stars rating")))
        elif form == 2 and not utt.spoken:
            utt.slot(s, "rating_min", r)
            utt.lit("+ stars" if rng.random() < 0.5 else "+")
        elif form == 3:
            utt.lit(rng.choice(("rated", "with a rating of", "rating")))
            utt.slot(s, "rating_min", r)
            utt.lit(rng.choice(("or higher", "or above", "or better", "and up", "or more", "+")))
        elif form == 4:
            utt.lit(
                rng.choice(
                    (
                        "with a rating above",
                        "rated above",
                        "rated over",
                        "with ratings over",
                        "rated higher than",
                        "with more than",
                    )
                )
            )
            utt.slot(s, "rating_min", r)
            utt.lit(rng.choice(("", "stars")))
        elif form == 5:
            utt.lit(rng.choice(("with", "that have", "having")))
            utt.slot(s, "rating_min", r)
            utt.lit(rng.choice(("star reviews or better", "stars minimum", "star ratings and up")))
        else:
            utt.slot(s, "rating_min", r)
            utt.lit(
                rng.choice(
                    ("stars and up", "stars or above", "star and above", "stars minimum", "stars or better")
                )
            )

    def _f_rating_bare(self, utt: _Utt) -> None:
        rng = self.rng
        r = rng.choice((3.0, 3.5, 4.0, 4.0, 4.5))
        utt.lit(rng.choice(("at least", "above", "over", "")))
        utt.slot(_rating_surface(r, utt.spoken, rng), "rating_min", r)
        utt.lit(rng.choice(("stars", "or higher", "and up", "or more", "+")))

    def _f_sort_pre(self, utt: _Utt) -> None:
        rng = self.rng
        value, words = rng.choice(_SORT_PRE)
        utt.slot(rng.choice(words), "sort", value)

    def _f_sort_post(self, utt: _Utt) -> None:
        rng = self.rng
        value, words = rng.choice(_SORT_POST)
        utt.slot(rng.choice(words), "sort", value)

    def _f_qty(self, utt: _Utt) -> None:
        rng = self.rng
        q = rng.choice((2, 2, 2, 3, 3, 4, 5, 6, 10, 1, 1, 12))
        if q == 2 and rng.random() < 0.25:
            utt.slot(rng.choice(("a couple", "a pair", "couple")), "quantity", 2)
            return
        if q == 1 and rng.random() < 0.5:
            utt.slot("one", "quantity", 1)
            return
        surface = number_to_words(q) if (utt.spoken or rng.random() < 0.45) else str(q)
        utt.slot(surface, "quantity", q)

    def _f_ord(self, utt: _Utt) -> None:
        rng = self.rng
        k = rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, -1, -1, -2))
        if k == -1:
            utt.lit("the")
            utt.slot(rng.choice(("last", "last", "final", "bottom")), "ordinal", [-1])
            utt.lit(rng.choice(("one", "one", "item", "option", "")))
            return
        if k == -2:
            utt.lit("the")
            utt.slot(
                rng.choice(("second to last", "second last", "penultimate", "2nd to last")), "ordinal", [-2]
            )
            utt.lit(rng.choice(("one", "")))
            return
        form = rng.randrange(7)
        if form <= 2 or utt.spoken:
            utt.lit("the")
            utt.slot(ordinal_to_words(k), "ordinal", [k])
            utt.lit(rng.choice(("one", "one", "item", "option", "result", "", "product")))
        elif form == 3:
            utt.lit("the")
            utt.slot(_ordinal_digits(k), "ordinal", [k])
            utt.lit(rng.choice(("one", "", "item")))
        elif form == 4:
            utt.lit(rng.choice(("number", "item", "option", "no.", "item number", "result")))
            utt.slot(str(k) if rng.random() < 0.7 else number_to_words(k), "ordinal", [k])
        elif form == 5:
            utt.slot("#" + str(k), "ordinal", [k])
        else:
            utt.slot(ordinal_to_words(k), "ordinal", [k])
            utt.lit(rng.choice(("one", "item", "option")))

    def _f_ords(self, utt: _Utt) -> None:
        rng = self.rng
        form = rng.randrange(8)
        if form == 0:
            n = rng.choice((2, 2, 3))
            utt.lit("the")
            utt.slot(
                f"{rng.choice(('first', 'top'))} {number_to_words(n) if rng.random() < 0.8 else n}",
                "ordinal",
                list(range(1, n + 1)),
            )
            utt.lit(rng.choice(("", "ones", "items", "options")))
        elif form == 1:
            utt.lit("the")
            utt.slot(f"last {number_to_words(2)}", "ordinal", [-2, -1])
        else:
            a, b = rng.sample((1, 2, 3, 4, 5, -1), 2)
            if a == -1:
                a, b = b, a
            for i, k in enumerate((a, b)):
                if i == 1:
                    utt.lit(rng.choice(("and", "and", "&", "with", "vs", "or", ",")))
                if k == -1:
                    utt.lit("the")
                    utt.slot("last", "ordinal", [-1])
                    utt.lit(rng.choice(("one", "")))
                    continue
                if form in (2, 3) or utt.spoken:
                    utt.lit("the" if i == 0 or rng.random() < 0.5 else "")
                    utt.slot(ordinal_to_words(k), "ordinal", [k])
                    if i == 1:
                        utt.lit(rng.choice(("one", "ones", "")))
                elif form == 4:
                    utt.slot(str(k), "ordinal", [k])
                elif form == 5:
                    if i == 0:
                        utt.lit(rng.choice(("number", "options", "items", "#")))
                    utt.slot(str(k), "ordinal", [k])
                elif form == 6:
                    utt.slot(_ordinal_digits(k), "ordinal", [k])
                else:
                    utt.slot("#" + str(k), "ordinal", [k])

    def _f_oid(self, utt: _Utt) -> None:
        rng = self.rng
        form = rng.randrange(10)
        if form <= 5:
            oid = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))
        elif form <= 7:
            oid = str(rng.randrange(10_000, 9_999_999))
        else:
            oid = "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + str(
                rng.randrange(100, 99999)
            )
        if utt.spoken:
            parts = [number_to_words(int(c)) if c.isdigit() else c for c in oid]
            utt.slot(" ".join(parts), "order_id", oid)
            return
        surface = oid
        v = rng.random()
        if v < 0.15:
            surface = "#" + oid
        elif v < 0.25 and len(oid) >= 6:
            surface = oid[:2] + "-" + oid[2:]
        elif v < 0.32 and len(oid) == 8:
            surface = oid[:4] + "-" + oid[4:]
        elif v < 0.38 and len(oid) == 8:
            surface = oid[:4] + " " + oid[4:]
        if rng.random() < 0.25:
            surface = surface.lower()
        utt.slot(surface, "order_id", re.sub(r"[^0-9A-Za-z]", "", surface))

    def _f_attr(self, utt: _Utt) -> None:
        utt.lit(
            self.rng.choice(
                (
                    "waterproof",
                    "machine washable",
                    "vegan",
                    "dishwasher safe",
                    "adjustable",
                    "comfortable",
                    "durable",
                    "easy to clean",
                    "good quality",
                    "in stock",
                    "noise cancelling",
                    "wireless",
                    "foldable",
                    "stretchy",
                    "true to size",
                )
            )
        )

    def _f_attr_q(self, utt: _Utt) -> None:
        qs = utt.cat.attributes or ("is it any good",)
        for piece in self.rng.choice(qs).split():
            utt.lit(piece)

    # ------------------------------------------------------------------ noise and assembly
    def _finish(self, utt: _Utt) -> Example:
        rng = self.rng
        segs = [(t, s) for t, s in utt.segs if t.strip()]
        noise = self.noise
        spoken = utt.spoken
        # fillers
        if rng.random() < (0.2 if spoken else 0.08) * noise:
            segs.insert(0, (rng.choice(_FILLERS_PRE), None))
        if rng.random() < 0.07 * noise and utt.intent not in {"affirm", "deny", "greet", "goodbye"}:
            segs.append(
                (rng.choice(("please", "pls", "thanks", "thx", "thank you", "plz", "asap", "ty")), None)
            )
        # a filler inside the sentence ("show me uh headphones")
        if len(segs) > 2 and rng.random() < (0.12 if spoken else 0.04) * noise:
            pos = rng.randrange(1, len(segs))
            segs.insert(pos, (rng.choice(("uh", "um", "like", "erm", "you know", "i guess")), None))
        # typos
        p_typo = rng.choice((0.0, 0.0, 0.0, 0.04, 0.08, 0.15)) * noise
        if p_typo:
            segs = [(_typo_text(t, s, p_typo, rng), s) for t, s in segs]
        # case and punctuation
        mode = rng.random()
        if spoken or mode < 0.5:
            segs = [(t.lower() if s != "order_id" or spoken else t, s) for t, s in segs]
        elif mode < 0.85:
            segs = _sentence_case(segs)
        elif mode < 0.88:
            segs = [(t.upper(), s) for t, s in segs]
        if spoken or rng.random() < 0.45 * noise:
            segs = [(_strip_punct(t, s), s) for t, s in segs]
            segs = [(t, s) for t, s in segs if t.strip()]
        if not spoken and rng.random() < 0.15 * noise:
            segs = [(t.replace("'", "").replace("’", "") if s not in {"brand"} else t, s) for t, s in segs]
        text, char_slots, char_span = _assemble(segs)
        words = split_words(text)
        tokens: list[str] = []
        tags: list[str] = []
        prev_span = -1
        for w in words:
            slot = char_slots[w.start]
            span = char_span[w.start]
            tokens.append(w.text)
            if slot is None:
                tags.append("O")
                prev_span = -1
            else:
                tags.append(("I-" if span == prev_span else "B-") + slot)
                prev_span = span
        return Example(text=text, intent=utt.intent, slots=dict(utt.gold), tokens=tokens, tags=tags)


# ---------------------------------------------------------------------------------- helpers
def _canon_type(t: str) -> str:
    return canonical_type(t)


def _expand(template: str, rng: random.Random) -> str:
    """Resolve ``(a|b)`` choices and ``[x]`` options, innermost first."""
    pat_choice = re.compile(r"\(([^()\[\]]*)\)")
    pat_opt = re.compile(r"\[([^()\[\]]*)\]")
    s = template
    for _ in range(50):
        m = pat_choice.search(s)
        if m:
            s = s[: m.start()] + rng.choice(m.group(1).split("|")) + s[m.end() :]
            continue
        m = pat_opt.search(s)
        if m:
            s = s[: m.start()] + (m.group(1) if rng.random() < 0.5 else "") + s[m.end() :]
            continue
        break
    return s


_MAX_PRE = (
    "under",
    "under",
    "under",
    "below",
    "less than",
    "at most",
    "no more than",
    "not more than",
    "up to",
    "max",
    "maximum",
    "within",
    "cheaper than",
    "for under",
    "for less than",
    "nothing over",
    "nothing above",
    "not over",
    "lower than",
    "budget",
    "my budget is",
    "with a budget of",
    "under like",
    "for no more than",
    "no higher than",
    "not above",
    "that cost less than",
    "that are under",
    "<",
    "priced under",
    "costing under",
    "less then",
    "undr",
    "beneath",
    "not exceeding",
    "tops",
)
_MAX_POST = (
    "or less",
    "or under",
    "or below",
    "max",
    "tops",
    "at the most",
    "and under",
    "or cheaper",
    "at most",
    "or lower",
    "maximum",
)
_MIN_PRE = (
    "over",
    "above",
    "more than",
    "at least",
    "starting at",
    "from",
    "nothing under",
    "nothing below",
    "minimum",
    "min",
    "upwards of",
    "no less than",
    "not less than",
    "higher than",
    "north of",
    ">",
    "starting from",
    "not under",
    "priced over",
    "costing at least",
    "more then",
    "no cheaper than",
)
_MIN_POST = (
    "or more",
    "and up",
    "and above",
    "plus",
    "or higher",
    "minimum",
    "and over",
    "or above",
    "at least",
)
_APPROX_PRE = (
    "around",
    "about",
    "roughly",
    "approximately",
    "close to",
    "something like",
    "~",
    "near",
    "in the region of",
    "somewhere around",
    "for about",
    "for around",
    "approx",
    "about like",
    "give or take",
)
_SORT_PRE: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "price_asc",
        (
            "cheapest",
            "cheapest",
            "least expensive",
            "lowest priced",
            "most affordable",
            "lowest cost",
            "cheapest possible",
            "lowest-priced",
            "most budget friendly",
        ),
    ),
    (
        "price_desc",
        (
            "most expensive",
            "priciest",
            "highest priced",
            "most premium",
            "most costly",
            "highest-end",
            "most pricey",
        ),
    ),
    (
        "rating_desc",
        (
            "best rated",
            "top rated",
            "highest rated",
            "best reviewed",
            "top-rated",
            "best-rated",
            "highest-rated",
            "most highly rated",
            "best",
            "top",
            "most popular",
            "best ranked",
        ),
    ),
)
_SORT_POST: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "price_asc",
        (
            "price",
            "price low to high",
            "lowest price",
            "cheapest first",
            "price ascending",
            "price from low to high",
            "cheapest",
            "lowest price first",
        ),
    ),
    (
        "price_desc",
        (
            "price high to low",
            "highest price",
            "most expensive first",
            "price descending",
            "price from high to low",
            "priciest first",
        ),
    ),
    (
        "rating_desc",
        (
            "rating",
            "best rating",
            "top rated",
            "highest rating",
            "reviews",
            "best reviews",
            "customer rating",
            "highest rated first",
            "stars",
        ),
    ),
)
_FILLERS_PRE = (
    "um",
    "uh",
    "umm",
    "so",
    "ok so",
    "like",
    "hey",
    "well",
    "hmm",
    "erm",
    "okay",
    "right so",
    "yeah",
    "alright",
    "please",
)


def _ordinal_digits(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _case_variant(value: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:
        return value.title()
    if r < 0.18:
        return value.upper()
    return value


def _brand_surface(b: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return b
    if r < 0.8:
        return " ".join(w[:1].upper() + w[1:] for w in b.split())
    if r < 0.9 and len(b) <= 6:
        return b.upper()
    return b


def _money_surface(v: float, spoken: bool, rng: random.Random) -> str:
    integral = float(v).is_integer()
    n = int(v)
    if spoken and integral:
        words = number_to_words(n)
        r = rng.random()
        if 110 <= n <= 999 and n % 100 >= 10 and r < 0.25:
            words = f"{number_to_words(n // 100)} {number_to_words(n % 100)}"  # "two fifty"
        elif 1100 <= n <= 9900 and n % 100 == 0 and n % 1000 != 0 and r < 0.5:
            words = f"{number_to_words(n // 100)} hundred"  # "twelve hundred"
        elif n in (100, 1000) and r < 0.5:
            words = "a " + words.split(" ", 1)[1]
        elif n >= 1000 and n % 1000 == 0 and r < 0.7:
            words = f"{number_to_words(n // 1000)} grand" if r < 0.3 else words
        elif 100 < n < 1000 and n % 100 and r < 0.55:
            h, rest = divmod(n, 100)
            words = f"{number_to_words(h)} hundred and {number_to_words(rest)}"
        unit = rng.choice(("dollars", "dollars", "bucks", "", ""))
        return f"{words} {unit}".strip()
    num = format_number(v)
    r = rng.random()
    if integral and n >= 1000 and n % 500 == 0 and r < 0.2:
        k = format_number(n / 1000)
        return rng.choice((f"{k}k", f"${k}k", f"{k}K"))
    if integral and n >= 1000 and n % 1000 == 0 and r < 0.27:
        return f"{n // 1000} grand"
    if integral and n >= 1000 and r < 0.5:
        num = f"{n:,}"
    if not integral:
        num = f"{v:.2f}"
    r = rng.random()
    if r < 0.4:
        return "$" + num
    if r < 0.6:
        return num
    if r < 0.72:
        return num + " dollars"
    if r < 0.82:
        return num + " bucks"
    if r < 0.86:
        return num + " usd"
    if r < 0.89:
        return "USD " + num
    if r < 0.92:
        return num + "$"
    if r < 0.95 and integral and n <= 999:
        return number_to_words(n) + rng.choice((" dollars", " bucks", ""))
    return "$" + num


def _rating_surface(r: float, spoken: bool, rng: random.Random) -> str:
    if spoken or rng.random() < 0.3:
        if r.is_integer():
            return number_to_words(int(r))
        whole = int(r)
        frac = round((r - whole) * 10)
        if frac == 5 and rng.random() < 0.6:
            return f"{number_to_words(whole)} and a half"
        return f"{number_to_words(whole)} point {number_to_words(frac)}"
    return format_number(r)


def _size_surface(s: str, spoken: bool, rng: random.Random) -> str:
    m = re.fullmatch(r"(\d+[(?:\.\d+)])x(\d+[(?:\.\d+)])", s)
    if m:
        a, b = m.groups()
        if spoken or rng.random() < 0.2:
            return f"{_num_words(a, rng)} by {_num_words(b, rng)}"
        return rng.choice((s, s, f"{a} x {b}", f"{a} by {b}", f"{a}'x{b}'", s.upper()))
    if re.fullmatch(r"\d+[(?:\.\d+)]", s):
        if spoken or rng.random() < 0.15:
            return _num_words(s, rng)
        return s
    m = re.fullmatch(r"(\d+) (inch|quart)", s)
    if m:
        a, unit = m.groups()
        if spoken or rng.random() < 0.1:
            return f"{_num_words(a, rng)} {unit}"
        return rng.choice((s, f"{a}-{unit}", s, f"{a} {unit}es" if unit == "inch" else f"{a} {unit}s"))
    m = re.fullmatch(r"(\d+[(?:\.\d+)])(gb|tb|ml|l|oz)", s)
    if m:
        a, unit = m.groups()
        if spoken:
            return f"{_num_words(a, rng)} {unit if unit not in {'gb', 'tb', 'ml'} else ' '.join(unit)}"
        return rng.choice((s, f"{a} {unit}", s.upper(), f"{a}{unit.upper()}"))
    if len(s) <= 4 and rng.random() < 0.5 and not spoken:
        return s.upper()
    return s


def _num_words(num: str, rng: random.Random) -> str:
    v = float(num)
    if v.is_integer():
        return number_to_words(int(v))
    whole = int(v)
    frac = round((v - whole) * 10)
    if frac == 5 and rng.random() < 0.7:
        return f"{number_to_words(whole)} and a half"
    return f"{number_to_words(whole)} point {number_to_words(frac)}"


def _typo_word(w: str, rng: random.Random) -> str:
    if len(w) < 4 or not w.isalpha():
        return w
    i = rng.randrange(1, len(w) - 1) if len(w) > 2 else 0
    op = rng.randrange(4)
    if op == 0:  # neighbour key
        c = w[i].lower()
        if c in _KEYBOARD:
            return w[:i] + rng.choice(_KEYBOARD[c]) + w[i + 1 :]
        return w
    if op == 1:  # dropped letter
        return w[:i] + w[i + 1 :]
    if op == 2:  # swapped letters
        if i + 1 < len(w):
            return w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        return w
    return w[:i] + w[i] + w[i:]  # doubled letter


def _typo_text(text: str, slot: str | None, p: float, rng: random.Random) -> str:
    if slot in {
        "order_id",
        "price_min",
        "price_max",
        "price_approx",
        "rating_min",
        "quantity",
        "ordinal",
        "size",
    }:
        return text
    words = text.split(" ")
    return " ".join(_typo_word(w, rng) if rng.random() < p else w for w in words)


def _sentence_case(segs: list[Seg]) -> list[Seg]:
    out: list[Seg] = []
    for i, (t, s) in enumerate(segs):
        if i == 0 and t:
            t = t[:1].upper() + t[1:]
        t = re.sub(r"\bi\b", "I", t) if s is None else t
        t = re.sub(r"\bi'(m|d|ll|ve)\b", lambda m: "I'" + m.group(1), t) if s is None else t
        out.append((t, s))
    return out


def _strip_punct(text: str, slot: str | None) -> str:
    if slot is not None:
        return text
    return re.sub(r"[?!.,;:]+", "", text)


def _assemble(segs: Iterable[Seg]) -> tuple[str, list[str | None], list[int]]:
    text = ""
    char_slots: list[str | None] = []
    char_span: list[int] = []
    for span_id, (t, s) in enumerate(segs):
        t = t.strip()
        if not t:
            continue
        glue = "" if (not text or t[0] in ",.?!;:" or t.startswith("'s")) else " "
        if glue:
            text += glue
            char_slots.append(None)
            char_span.append(-1)
        text += t
        char_slots.extend([s] * len(t))
        char_span.extend([span_id] * len(t))
    return text, char_slots, char_span


def generate_examples(
    vocabulary: CatalogVocabulary | None = None,
    *,
    n: int = 12_000,
    seed: int = 0,
    heldout_fraction: float = 0.15,
) -> list[Example]:
    """Training examples: the catalog's words plus the built-in vocabulary minus its held-out part."""
    _, held = split_holdout(heldout_fraction, keep=vocabulary)
    gen = ExampleGenerator(vocabulary, seed=seed, holdout=held)
    return gen.generate(n)
