"""Shopping vocabulary: the catalog's own words plus a broad built-in one.

The generator fills its templates from a :class:`CatalogVocabulary`.  The built-in
vocabulary covers home goods, furniture, kitchen, beauty, electronics, apparel, shoes,
sports and toys, so that the tagger learns the *context* of a product type, brand or
colour rather than a list of them; part of it is held out of training
(:func:`split_holdout`) to measure exactly that.
"""

from __future__ import annotations

import csv
import importlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.nlu._inflect import singularize

if TYPE_CHECKING:
    from retrieval._schema import Product

__all__ = [
    "CatalogVocabulary",
    "Category",
    "BUILTIN_CATEGORIES",
    "BUILTIN_COLORS",
    "SIZE_KINDS",
    "builtin_vocabulary",
    "vocabulary_from_products",
    "vocabulary_from_catalog_file",
    "split_holdout",
    "canonical_type",
    "canonical_brand",
]


def _words(text: str) -> tuple[str, ...]:
    """A comma-separated word list (how the built-in vocabulary is written down)."""
    return tuple(" ".join(w.split()) for w in text.split(",") if w.strip())


def canonical_type(value: str) -> str:
    """Product types are lower case and singular."""
    return singularize(" ".join(value.lower().replace("_", " ").split()))


def canonical_brand(value: str) -> str:
    """Brands (and colours, materials) are lower case, single-spaced, without trailing dots."""
    return " ".join(value.lower().split()).rstrip(".")


@dataclass(frozen=True)
class CatalogVocabulary:
    """The words of one catalog (or of the built-in general vocabulary), normalised."""

    product_types: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    genders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("product_types", "brands", "colors", "materials", "sizes", "genders"):
            values: Iterable[str] = getattr(self, name)
            canon = canonical_type if name == "product_types" else canonical_brand
            seen: dict[str, None] = {}
            for v in values:
                c = canon(v)
                if c:
                    seen[c] = None
            object.__setattr__(self, name, tuple(seen))

    def merged(self, other: CatalogVocabulary) -> CatalogVocabulary:
        return CatalogVocabulary(
            product_types=self.product_types + other.product_types,
            brands=self.brands + other.brands,
            colors=self.colors + other.colors,
            materials=self.materials + other.materials,
            sizes=self.sizes + other.sizes,
            genders=self.genders + other.genders,
        )

    def minus(self, other: CatalogVocabulary) -> CatalogVocabulary:
        return CatalogVocabulary(
            product_types=tuple(v for v in self.product_types if v not in set(other.product_types)),
            brands=tuple(v for v in self.brands if v not in set(other.brands)),
            colors=tuple(v for v in self.colors if v not in set(other.colors)),
            materials=tuple(v for v in self.materials if v not in set(other.materials)),
            sizes=tuple(v for v in self.sizes if v not in set(other.sizes)),
            genders=tuple(v for v in self.genders if v not in set(other.genders)),
        )

    def summary(self) -> dict[str, int]:
        return {
            "product_types": len(self.product_types),
            "brands": len(self.brands),
            "colors": len(self.colors),
            "materials": len(self.materials),
            "sizes": len(self.sizes),
            "genders": len(self.genders),
        }

    def to_json(self) -> dict[str, list[str]]:
        return {
            "product_types": list(self.product_types),
            "brands": list(self.brands),
            "colors": list(self.colors),
            "materials": list(self.materials),
            "sizes": list(self.sizes),
            "genders": list(self.genders),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogVocabulary:
        return cls(**{k: tuple(v) for k, v in data.items()})


#: size kinds: which sizes suit which product types
SIZE_KINDS: dict[str, tuple[str, ...]] = {
    "apparel": _words(
        """
        xs, s, m, l, xl, xxl, 2xl, 3xl, xxxl, small, medium, large, extra large, x-large, extra small,
        petite, plus, one size, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18
        """
    ),
    "waist": _words(
        """
        28, 29, 30, 31, 32, 33, 34, 36, 38, 40, 42, 30x30, 32x32, 32x34, 34x32, 36x30, small, medium, large,
        xl
        """
    ),
    "shoe": _words(
        """
        5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11, 11.5, 12, 13, 14, 36, 37, 38, 39, 40, 41, 42,
        43, 44, 45, wide
        """
    ),
    "bed": _words(
        """
        twin, twin xl, full, double, queen, king, california king, cal king, single
        """
    ),
    "rug": _words(
        """
        2x3, 3x5, 4x6, 5x7, 5x8, 6x9, 8x10, 9x12, 10x14, 2x8
        """
    ),
    "screen": _words(
        """
        24 inch, 27 inch, 32 inch, 40 inch, 43 inch, 50 inch, 55 inch, 65 inch, 75 inch, 85 inch, 13 inch,
        14 inch, 15 inch, 16 inch, 17 inch
        """
    ),
    "storage": _words(
        """
        64gb, 128gb, 256gb, 512gb, 1tb, 2tb, 4tb, 32gb, 16gb, 8gb
        """
    ),
    "volume": _words(
        """
        30ml, 50ml, 100ml, 150ml, 200ml, 250ml, 500ml, 1l, 1.7l, 2l, 3 quart, 6 quart, 8 quart, 12oz, 16oz,
        20oz, 32oz, 40oz
        """
    ),
    "kids": _words(
        """
        2t, 3t, 4t, 5t, 4, 6, 8, 10, 12, newborn, 0-3 months, 6-12 months
        """
    ),
    "generic": _words(
        """
        small, medium, large, xl, mini, standard, compact, oversized
        """
    ),
    "ball": ("size 3", "size 4", "size 5", "5", "7", "official size"),
}


@dataclass(frozen=True)
class Category:
    """Product types that go together, with the brands, materials and sizes that suit them."""

    name: str
    product_types: tuple[str, ...]
    brands: tuple[str, ...]
    materials: tuple[str, ...] = ()
    size_kind: str = "generic"
    genders: bool = False
    attributes: tuple[str, ...] = field(default=())  # questions shoppers ask ("is it waterproof")


_FURNITURE_MATERIALS = _words(
    """
    oak, walnut, pine, teak, acacia, bamboo, rattan, wicker, mahogany, birch, maple, solid wood, wood,
    reclaimed wood, marble, glass, metal, steel, velvet, leather, faux leather, linen, boucle, chenille,
    microfiber, fabric, cane, mango wood, plywood, upholstered
    """
)
_TEXTILE_MATERIALS = _words(
    """
    cotton, organic cotton, linen, wool, jute, sisal, polyester, velvet, silk, bamboo, microfiber, flannel,
    sateen, percale, chenille, faux fur, cashmere, fleece, seagrass, memory foam, down, latex
    """
)
_APPAREL_MATERIALS = _words(
    """
    cotton, organic cotton, linen, wool, merino wool, cashmere, silk, satin, velvet, denim, polyester,
    nylon, spandex, fleece, corduroy, jersey, chiffon, lace, tweed, leather, faux leather, suede, rayon,
    viscose, modal, georgette, crepe, khadi, mesh, gore-tex, down
    """
)
_SHOE_MATERIALS = _words(
    """
    leather, suede, canvas, mesh, rubber, patent leather, nubuck, faux leather, vegan leather, knit,
    synthetic, cork, wool, gore-tex
    """
)
_KITCHEN_MATERIALS = _words(
    """
    stainless steel, cast iron, ceramic, nonstick, non-stick, copper core, aluminum, aluminium, glass,
    porcelain, stoneware, bamboo, wood, silicone, plastic, carbon steel, enameled cast iron, borosilicate
    glass, marble, acacia, earthenware, melamine, crystal, hard anodized
    """
)
_ACCESSORY_MATERIALS = _words(
    """
    leather, faux leather, vegan leather, canvas, nylon, suede, straw, sterling silver, stainless steel,
    titanium, gold plated, brass, platinum, pearl, resin, acetate, polycarbonate, denim, jute
    """
)
_ELECTRONICS_MATERIALS = _words(
    """
    aluminum, plastic, silicone, leather, glass, carbon fiber, stainless steel, titanium, fabric
    """
)
_SPORT_MATERIALS = _words(
    """
    carbon fiber, aluminum, steel, rubber, foam, neoprene, nylon, polyester, cork, graphite, titanium, mesh,
    pvc, tpe
    """
)
_TOY_MATERIALS = _words(
    """
    wood, wooden, plastic, plush, felt, cardboard, silicone, fabric, bamboo
    """
)

BUILTIN_CATEGORIES: tuple[Category, ...] = (
    Category(
        "furniture",
        _words(
            """
            sofa, couch, sectional sofa, sectional, loveseat, sleeper sofa, futon, armchair, accent chair,
            recliner, rocking chair, dining chair, office chair, gaming chair, desk chair, bar stool,
            counter stool, stool, ottoman, pouf, bench, coffee table, side table, end table, dining table,
            console table, kitchen island, desk, standing desk, writing desk, bookshelf, bookcase, tv stand,
            media console, dresser, chest of drawers, nightstand, bedside table, wardrobe, armoire, bed
            frame, platform bed, bunk bed, daybed, headboard, crib, changing table, shoe rack, coat rack,
            filing cabinet, storage cabinet, sideboard, buffet, hutch, vanity, patio chair, patio set,
            outdoor sofa, hammock, chaise lounge, bean bag, room divider, wine rack, entryway table,
            floating shelf, wall shelf, ladder shelf, tv mount, foot stool, papasan chair, adirondack chair,
            porch swing, bistro set
            """
        ),
        _words(
            """
            ikea, west elm, pottery barn, wayfair, ashley, crate and barrel, la-z-boy, article, herman
            miller, steelcase, cb2, restoration hardware, rh, ethan allen, joybird, burrow, floyd, room and
            board, world market, threshold, sauder, zinus, hon, secretlab, branch, dwr, williams sonoma,
            lovesac, castlery, interior define, poly and bark, rivet, stone and beam, mainstays, better
            homes, hay, muuto, vitra, knoll, kartell, hooker, bassett, flexsteel, serena and lily
            """
        ),
        _FURNITURE_MATERIALS,
        "generic",
        False,
        (
            "is it easy to assemble",
            "what are the dimensions",
            "how much weight can it hold",
            "does it come assembled",
            "is the cover removable",
            "how wide is it",
            "is it sturdy",
        ),
    ),
    Category(
        "bedding",
        _words(
            """
            mattress, mattress topper, memory foam mattress, pillow, body pillow, duvet, duvet cover,
            comforter, quilt, bed sheet, sheet set, fitted sheet, pillowcase, weighted blanket, throw
            blanket, blanket, bedspread, mattress protector, electric blanket, bed skirt, coverlet
            """
        ),
        _words(
            """
            casper, purple, tempur-pedic, tempur, serta, sealy, saatva, nectar, tuft and needle, helix,
            leesa, avocado, brooklinen, parachute, boll and branch, buffy, coop, sleep number, beautyrest,
            mellanni, bedsure, utopia bedding, cozy earth, snowe
            """
        ),
        _TEXTILE_MATERIALS,
        "bed",
        False,
        (
            "is it machine washable",
            "how firm is it",
            "is it hypoallergenic",
            "does it sleep hot",
            "what is the thread count",
            "is there a trial period",
        ),
    ),
    Category(
        "home decor",
        _words(
            """
            rug, area rug, runner rug, runner, doormat, curtain, blackout curtain, sheer curtain, curtain
            rod, blind, throw pillow, cushion, pillow cover, mirror, wall mirror, floor mirror, wall clock,
            alarm clock, picture frame, photo frame, vase, candle, scented candle, candle holder, diffuser,
            table lamp, floor lamp, desk lamp, pendant light, chandelier, ceiling fan, lampshade, wall
            sconce, string lights, wall art, canvas print, poster, artificial plant, planter, plant pot,
            basket, storage basket, storage bin, laundry basket, laundry hamper, bath towel, hand towel,
            beach towel, bath mat, shower curtain, bath rug, tissue box, soap dispenser, coat hook, key
            holder, bookend, tray, decorative bowl, sculpture, tapestry, humidifier, air purifier,
            dehumidifier, space heater, vacuum cleaner, robot vacuum, cordless vacuum, steam mop, mop,
            broom, iron, steam iron, garment steamer, trash can, step ladder, tool set, drill, cordless
            drill, smoke detector, light bulb, extension cord, power strip, fan, tower fan
            """
        ),
        _words(
            """
            dyson, shark, irobot, roomba, eufy, bissell, hoover, miele, philips hue, levoit, honeywell,
            vornado, rowenta, black and decker, dewalt, makita, bosch, ryobi, yankee candle, bath and body
            works, nourison, safavieh, loloi, ruggable, jonathan y, umbra, simplehuman, brightech, govee,
            lasko, coway, blueair, rejuvenation, schoolhouse, anthropologie, urban outfitters, h&m home,
            zara home, kohler, moen, command, yamazaki, joseph joseph
            """
        ),
        _TEXTILE_MATERIALS
        + _words(
            """
            ceramic, glass, brass, rattan, wood, metal, concrete, terracotta, marble, paper, soy wax,
            beeswax, resin, iron
            """
        ),
        "rug",
        False,
        _words(
            """
            is it washable, is it non slip, how bright is it, does it need batteries, what bulb does it
            take, how loud is it, is it dimmable, how big is it
            """
        ),
    ),
    Category(
        "kitchen",
        _words(
            """
            blender, toaster, toaster oven, coffee maker, espresso machine, coffee grinder, french press,
            pour over, kettle, electric kettle, tea kettle, air fryer, slow cooker, pressure cooker, instant
            pot, stand mixer, hand mixer, food processor, microwave, rice cooker, frying pan, skillet,
            saucepan, stock pot, dutch oven, wok, grill pan, baking sheet, baking dish, cake pan, muffin
            tin, cutting board, chef knife, knife set, paring knife, bread knife, knife block, mixing bowl,
            dinner plate, plate, bowl, cereal bowl, salad bowl, mug, coffee mug, tea cup, wine glass,
            champagne flute, tumbler, water bottle, travel mug, lunch box, food container, dish rack,
            spatula, whisk, ladle, tongs, measuring cup, measuring spoon, kitchen scale, can opener, peeler,
            grater, colander, teapot, cookware set, pot and pan set, dinnerware set, flatware set, cutlery
            set, waffle maker, juicer, ice cream maker, bread maker, dishwasher, refrigerator, mini fridge,
            range hood, oven mitt, apron, tea towel, spice rack, salt grinder, pepper mill, wine opener,
            cocktail shaker, ice tray, thermos, milk frother, sous vide, griddle, roasting pan, pizza stone,
            trash bin, paper towel holder, utensil holder
            """
        ),
        _words(
            """
            kitchenaid, cuisinart, breville, ninja, instant, keurig, nespresso, de'longhi, delonghi, le
            creuset, staub, lodge, calphalon, all-clad, oxo, hamilton beach, vitamix, smeg, t-fal, tefal,
            zwilling, henckels, wusthof, victorinox, pyrex, corningware, corelle, yeti, hydro flask,
            stanley, contigo, owala, zojirushi, chemex, bodum, hario, fellow, cosori, crock-pot, sunbeam,
            black decker, caraway, our place, great jones, made in, hexclad, misen, rubbermaid, tupperware,
            mikasa, villeroy and boch, riedel, lenox, fiestaware, nordic ware, emile henry, scanpan,
            greenpan, circulon, farberware, anolon, kenwood, moccamaster, bosch, whirlpool, frigidaire, ge,
            beko, bialetti, dash, chefman, gourmia
            """
        ),
        _KITCHEN_MATERIALS,
        "volume",
        False,
        _words(
            """
            is it dishwasher safe, is it oven safe, does it work on induction, how many cups does it hold,
            what is the wattage, is it bpa free, how long is the warranty, is it easy to clean
            """
        ),
    ),
    Category(
        "beauty",
        _words(
            """
            lipstick, liquid lipstick, lip gloss, lip balm, lip liner, lip oil, mascara, eyeliner, eyeshadow
            palette, eyeshadow, eyebrow pencil, brow gel, foundation, concealer, blush, bronzer,
            highlighter, contour stick, setting powder, setting spray, primer, bb cream, cc cream, tinted
            moisturizer, nail polish, gel polish, nail kit, press on nails, perfume, cologne, eau de parfum,
            eau de toilette, body mist, deodorant, antiperspirant, moisturizer, face cream, night cream, day
            cream, serum, vitamin c serum, retinol serum, hyaluronic acid serum, face oil, sunscreen, spf
            moisturizer, cleanser, face wash, cleansing balm, toner, exfoliator, face scrub, face mask,
            sheet mask, clay mask, eye cream, eye patch, shampoo, dry shampoo, conditioner, leave-in
            conditioner, hair oil, hair mask, hair serum, hair spray, hair gel, hair dryer, blow dryer, hair
            straightener, flat iron, curling iron, curling wand, hot brush, hair brush, comb, body lotion,
            body butter, body oil, body wash, shower gel, bar soap, hand soap, hand cream, body scrub, bath
            bomb, makeup brush, brush set, makeup sponge, beauty blender, makeup remover, micellar water,
            cotton pads, electric razor, razor, shaving cream, aftershave, beard oil, beard trimmer, hair
            clippers, epilator, electric toothbrush, toothbrush, toothpaste, whitening strips, makeup bag,
            makeup mirror, lash curler, false eyelashes, tweezers, nail file, lip scrub, face roller, gua
            sha, facial cleansing brush, self tanner, hair color, hair dye, makeup kit, skincare set, gift
            set, perfume gift set, lip kit, highlighter palette, foot cream, body spray
            """
        ),
        _words(
            """
            maybelline, l'oreal, loreal, revlon, nyx, mac, clinique, estee lauder, lancome, dior, chanel,
            fenty beauty, fenty, rare beauty, glossier, the ordinary, cerave, neutrogena, olay, nivea, dove,
            la roche-posay, kiehl's, sephora, urban decay, too faced, benefit, nars, charlotte tilbury,
            bobbi brown, tarte, elf, e.l.f., milani, lakme, garnier, pantene, head and shoulders, tresemme,
            olaplex, moroccanoil, ghd, braun, philips, gillette, oral-b, paula's choice, drunk elephant,
            tatcha, sunday riley, laneige, cosrx, innisfree, missha, some by mi, anastasia, huda beauty,
            morphe, colourpop, covergirl, physicians formula, wet n wild, essie, opi, sally hansen, aveeno,
            cetaphil, vaseline, burt's bees, carmex, jo malone, yves saint laurent, ysl, gucci beauty, tom
            ford, versace, calvin klein, davidoff, hugo boss, paco rabanne, marc jacobs, viktor and rolf,
            byredo, le labo, nest, old spice, axe, secret, degree, native, schwarzkopf, redken, aveda,
            kerastase, briogeo, ouai, dyson, t3, conair, remington, panasonic, wahl, foreo, mario badescu,
            biore, clean and clear, first aid beauty, supergoop, la mer, shiseido, clarins, sol de janeiro,
            the body shop, lush, ilia, kosas, saie, tower 28, makeup by mario, pat mcgrath, natasha denona,
            smashbox, it cosmetics, lorac, biotique, forest essentials, mamaearth, plum, sugar, kama
            ayurveda
            """
        ),
        _words(
            """
            vegan, cruelty free, mineral, matte, glitter, cream, liquid, powder, gel, oil-free, fragrance
            free, organic, natural, boar bristle, ceramic, tourmaline
            """
        ),
        "volume",
        False,
        _words(
            """
            is it cruelty free, is it good for sensitive skin, is it vegan, does it have spf, how long does
            it last, is it waterproof, is it fragrance free, what shades does it come in, is it non
            comedogenic, does it transfer
            """
        ),
    ),
    Category(
        "electronics",
        _words(
            """
            laptop, gaming laptop, notebook, chromebook, macbook, tablet, ipad, smartphone, phone, cell
            phone, iphone, android phone, smartwatch, smart watch, fitness tracker, headphones, wireless
            headphones, noise cancelling headphones, earbuds, wireless earbuds, earphones, bluetooth
            speaker, portable speaker, soundbar, speaker, subwoofer, tv, smart tv, television, oled tv,
            monitor, gaming monitor, keyboard, mechanical keyboard, mouse, gaming mouse, mouse pad, webcam,
            printer, laser printer, scanner, router, wifi router, mesh router, modem, external hard drive,
            hard drive, usb drive, flash drive, ssd, power bank, portable charger, phone case, screen
            protector, charger, wireless charger, charging cable, usb cable, usb hub, docking station,
            camera, digital camera, mirrorless camera, dslr, action camera, camera lens, tripod, ring light,
            drone, e-reader, kindle, projector, game console, controller, gaming headset, vr headset, smart
            speaker, smart display, smart plug, smart bulb, security camera, video doorbell, doorbell
            camera, microphone, graphics card, memory card, sd card, desktop computer, gaming pc, all in one
            computer, laptop stand, laptop bag, laptop sleeve, stylus, cable organizer, surge protector,
            turntable, record player, radio, walkie talkie, dash cam, gps, streaming stick, media player,
            home theater system, amplifier, receiver, ups, nas, motherboard, processor, ram, cpu cooler, pc
            case, power supply
            """
        ),
        _words(
            """
            apple, samsung, sony, lg, dell, hp, lenovo, asus, acer, microsoft, google, bose, jbl, beats,
            sennheiser, anker, logitech, razer, corsair, canon, nikon, fujifilm, gopro, dji, amazon, xiaomi,
            oneplus, huawei, garmin, fitbit, tcl, hisense, vizio, panasonic, epson, brother, netgear,
            tp-link, sandisk, seagate, western digital, nintendo, playstation, xbox, roku, sonos, ring,
            nest, belkin, msi, gigabyte, alienware, steelseries, hyperx, audio-technica, shure, rode, jabra,
            skullcandy, marshall, bang and olufsen, ultimate ears, sony bravia, motorola, nokia, pixel,
            kindle, kobo, remarkable, wacom, elgato, blue yeti, eero, arlo, wyze, blink, eufy, ugreen,
            baseus, mophie, otterbox, spigen, crucial, kingston, samsung galaxy, intel, amd, nvidia,
            philips, sharp, toshiba, benq, viewsonic, aoc, polaroid, insta360, oura, whoop, amazfit, polar,
            suunto, nothing, realme, oppo, vivo, boat, noise, zebronics, sonos
            """
        ),
        _ELECTRONICS_MATERIALS,
        "screen",
        False,
        _words(
            """
            how long does the battery last, is it waterproof, does it support bluetooth, is it compatible
            with iphone, does it have noise cancelling, how much storage does it have, does it come with a
            charger, what is the screen resolution, is it 4k, does it work with alexa, how much ram does it
            have, what is the refresh rate, is it unlocked, does it have usb c
            """
        ),
    ),
    Category(
        "apparel",
        _words(
            """
            t-shirt, tshirt, tee, shirt, dress shirt, flannel shirt, polo shirt, polo, dress, maxi dress,
            midi dress, mini dress, sundress, wrap dress, cocktail dress, evening gown, gown, skirt, mini
            skirt, pleated skirt, blouse, top, crop top, tank top, camisole, bodysuit, tunic, hoodie, zip
            hoodie, sweatshirt, sweater, turtleneck, cardigan, pullover, vest, puffer vest, jacket, denim
            jacket, leather jacket, bomber jacket, puffer jacket, down jacket, rain jacket, windbreaker,
            fleece jacket, coat, trench coat, peacoat, parka, overcoat, raincoat, blazer, suit, tuxedo,
            waistcoat, jeans, skinny jeans, mom jeans, trousers, pants, cargo pants, wide leg pants, chinos,
            shorts, denim shorts, bermuda shorts, leggings, yoga pants, joggers, sweatpants, track pants,
            pajamas, pajama set, nightgown, robe, bathrobe, bra, sports bra, bralette, briefs, boxers, boxer
            briefs, underwear, panties, lingerie, socks, tights, stockings, swimsuit, bikini, swim trunks,
            one piece, rash guard, kurta, kurti, saree, salwar suit, lehenga, dupatta, sherwani, kimono,
            jumpsuit, romper, overalls, dungarees, tracksuit, thermal, base layer, uniform, school uniform,
            onesie, scarf, shawl, poncho, hat, beanie, baseball cap, cap, bucket hat, sun hat, fedora,
            gloves, mittens, belt, tie, bow tie, suspenders, cufflinks, jersey, compression shirt, running
            shorts, cycling shorts, graphic tee, henley, oxford shirt, linen shirt, blazer dress, slip
            dress, shirt dress, cargo shorts, culottes, capris, ski pants, snow pants
            """
        ),
        _words(
            """
            nike, adidas, puma, reebok, under armour, levi's, levis, zara, h&m, uniqlo, gap, old navy, tommy
            hilfiger, calvin klein, ralph lauren, polo ralph lauren, lacoste, gucci, prada, burberry,
            versace, armani, hugo boss, the north face, north face, patagonia, columbia, lululemon,
            champion, fila, guess, diesel, mango, forever 21, j.crew, banana republic, everlane,
            abercrombie, hollister, american eagle, aeropostale, express, ann taylor, loft, madewell, free
            people, reformation, anthropologie, asos, shein, boohoo, topshop, primark, next, m&s, marks and
            spencer, ted baker, superdry, hanes, fruit of the loom, jockey, victoria's secret, aerie, spanx,
            skims, carhartt, dickies, wrangler, lee, pepe jeans, jack and jones, only, vero moda, allen
            solly, van heusen, peter england, louis philippe, arrow, raymond, fabindia, biba, w, global
            desi, manyavar, roadster, hrx, here and now, mast and harbour, dressberry, sassafras, spykar,
            flying machine, u.s. polo assn., united colors of benetton, benetton, wildcraft, decathlon,
            kalenji, domyos, arc'teryx, canada goose, moncler, barbour, fjallraven, quiksilver, billabong,
            speedo, roxy, athleta, vuori, alo yoga, gymshark, fabletics, outdoor voices, uniqlo u, cos,
            massimo dutti, bershka, pull and bear, stradivarius, monki, weekday, zara kids, carter's,
            oshkosh, the children's place, gap kids, hanna andersson, burt's bees baby, kate spade, michael
            kors, tory burch, coach, dkny, tommy jeans, nautica, brooks brothers, bonobos, j.jill, chico's,
            talbots, eileen fisher, max mara
            """
        ),
        _APPAREL_MATERIALS,
        "apparel",
        True,
        _words(
            """
            is it true to size, is it machine washable, does it shrink, is it see through, what is it made
            of, is it stretchy, does it have pockets, how long is it, is it lined, does it run small, is it
            warm enough for winter
            """
        ),
    ),
    Category(
        "shoes",
        _words(
            """
            sneakers, running shoes, trail running shoes, walking shoes, tennis shoes, basketball shoes,
            training shoes, casual shoes, formal shoes, sports shoes, dress shoes, boots, ankle boots,
            chelsea boots, combat boots, hiking boots, work boots, rain boots, snow boots, knee high boots,
            cowboy boots, sandals, slides, flip flops, slippers, heels, high heels, pumps, stilettos, block
            heels, wedges, loafers, oxfords, brogues, derby shoes, moccasins, boat shoes, ballet flats,
            flats, mules, clogs, espadrilles, platform shoes, slip ons, football boots, soccer cleats,
            cleats, golf shoes, cycling shoes, climbing shoes, water shoes, kids shoes, school shoes, skate
            shoes, high tops, trainers, kitten heels, mary janes, gladiator sandals, platform sneakers,
            running shoe, sneaker
            """
        ),
        _words(
            """
            nike, adidas, puma, reebok, new balance, asics, under armour, converse, vans, skechers, crocs,
            birkenstock, dr. martens, dr martens, timberland, ugg, clarks, steve madden, aldo, sam edelman,
            jimmy choo, christian louboutin, manolo blahnik, stuart weitzman, hoka, brooks, saucony, mizuno,
            salomon, merrell, keen, teva, allbirds, on running, on, altra, veja, golden goose, common
            projects, sperry, sorel, hunter, red wing, wolverine, cole haan, ecco, rockport, hush puppies,
            bata, woodland, red tape, lotto, fila, sketchers, naturalizer, vionic, rothy's, tory burch,
            michael kors, coach, nine west, franco sarto, kenneth cole, toms, havaianas, reef, chaco,
            blundstone, frye, lucky brand, journeys, campus, liberty, khadim's, metro, mochi, inc.5,
            catwalk, hrx, roadster, kalenji, diadora, karhu, la sportiva, scarpa, five ten, lowa, danner
            """
        ),
        _SHOE_MATERIALS,
        "shoe",
        True,
        _words(
            """
            are they true to size, are they waterproof, are they comfortable for walking, do they come in
            wide, are they slip resistant, do they have arch support, are they good for running, what is the
            heel height
            """
        ),
    ),
    Category(
        "accessories",
        _words(
            """
            backpack, handbag, purse, tote bag, tote, crossbody bag, shoulder bag, clutch, wallet, card
            holder, belt bag, fanny pack, duffel bag, gym bag, messenger bag, briefcase, suitcase, carry-on,
            luggage set, travel bag, watch, smart band, sunglasses, glasses, reading glasses, earrings, stud
            earrings, hoop earrings, necklace, pendant, bracelet, bangle, ring, engagement ring, anklet,
            brooch, hair clip, headband, scrunchie, umbrella, keychain, phone strap, jewelry box, watch
            strap, money clip, passport holder, coin purse, laptop backpack, diaper bag, beach bag, chain,
            charm bracelet, choker, tiara, hair tie
            """
        ),
        _words(
            """
            coach, michael kors, kate spade, fossil, timex, casio, seiko, citizen, rolex, omega, tag heuer,
            tissot, swatch, daniel wellington, mvmt, titan, fastrack, ray-ban, rayban, oakley, persol, warby
            parker, maui jim, prada, gucci, louis vuitton, chanel, hermes, longchamp, tumi, samsonite, away,
            herschel, jansport, north face, osprey, eastpak, fjallraven, kanken, baggit, caprese, lavie,
            hidesign, da milano, tommy hilfiger, calvin klein, pandora, swarovski, tiffany, tiffany and co,
            cartier, mejuri, kendra scott, david yurman, alex and ani, monica vinader, tanishq, giva,
            accessorize, claire's, skagen, movado, bulova, invicta, g-shock, sonata, american tourister,
            vip, skybags, safari, wildcraft, puma, adidas, nike, vera bradley, dagne dover, bellroy,
            montblanc, ted baker, guess, aldo, steve madden, baggallini, lo and sons
            """
        ),
        _ACCESSORY_MATERIALS,
        "generic",
        True,
        _words(
            """
            is it real leather, does it fit a laptop, is it water resistant, how many compartments does it
            have, is it hypoallergenic, is it real gold, what is the strap length, does it come in a gift
            box, is it carry on size, does it have a warranty
            """
        ),
    ),
    Category(
        "sports",
        _words(
            """
            yoga mat, yoga block, dumbbells, dumbbell, kettlebell, barbell, weight plates, weight bench,
            resistance bands, resistance band, pull up bar, treadmill, exercise bike, spin bike, rowing
            machine, elliptical, tennis racket, badminton racket, squash racket, pickleball paddle, tennis
            balls, football, basketball, soccer ball, volleyball, baseball bat, baseball glove, golf club,
            golf balls, golf bag, bicycle, bike, mountain bike, road bike, electric bike, bike helmet,
            helmet, bike lock, bike light, skateboard, longboard, roller skates, inline skates, scooter,
            electric scooter, tent, sleeping bag, sleeping pad, camping chair, camping stove, cooler,
            headlamp, lantern, hiking backpack, trekking poles, hydration pack, jump rope, foam roller,
            massage gun, boxing gloves, punching bag, swim goggles, swim cap, life jacket, kayak, paddle
            board, surfboard, wetsuit, ski jacket, skis, snowboard, ski goggles, ski boots, ice skates,
            hockey stick, cricket bat, table tennis paddle, ping pong table, dartboard, fishing rod, fishing
            reel, climbing harness, chalk bag, gym gloves, protein shaker, sports water bottle, ab roller,
            medicine ball, stability ball, exercise mat, heart rate monitor, cycling jersey, knee brace,
            shin guards, goalkeeper gloves
            """
        ),
        _words(
            """
            wilson, spalding, yonex, callaway, titleist, taylormade, ping, coleman, decathlon, quechua,
            trek, specialized, giant, cannondale, bowflex, peloton, nordictrack, manduka, gaiam, liforme,
            rogue, rep fitness, theragun, hyperice, trx, everlast, head, babolat, prince, mikasa, molten,
            rawlings, easton, louisville slugger, burton, rossignol, atomic, k2, oakley, smith, giro, bell,
            kryptonite, black diamond, petzl, msr, big agnes, rei, rei co-op, marmot, mountain hardwear,
            therm-a-rest, jetboil, camelbak, osprey, yeti, igloo, thule, garmin, polar, shimano, penn, ugly
            stik, sg, kookaburra, gray-nicolls, stiga, butterfly, cosco, nivia, kipsta, domyos, btwin,
            rockrider, oxelo, kalenji, artengo, speedo, tyr, arena, zoggs, o'neill, rip curl, bauer, ccm,
            razor, segway, xiaomi, hiboy, rad power bikes, schwinn, huffy, fuji, bianchi, cervelo, lululemon
            """
        ),
        _SPORT_MATERIALS,
        "generic",
        True,
        _words(
            """
            how much does it weigh, is it adjustable, what is the max weight, is it foldable, is it good for
            beginners, does it come with a pump, is it waterproof, how many people does it fit
            """
        ),
    ),
    Category(
        "toys",
        _words(
            """
            lego set, building blocks, building set, doll, baby doll, fashion doll, action figure, board
            game, card game, puzzle, jigsaw puzzle, stuffed animal, plush toy, teddy bear, toy car, remote
            control car, rc car, race track, play kitchen, dollhouse, kite, water gun, ride-on toy, balance
            bike, tricycle, train set, art set, coloring book, crayons, play dough, slime kit, science kit,
            stem toy, robot kit, magnetic tiles, stacking toy, shape sorter, rattle, teether, baby gym,
            activity table, rocking horse, trampoline, swing set, sandbox, bubble machine, nerf gun, yo-yo,
            rubik's cube, fidget toy, toy kitchen set, tea set, doctor kit, tool bench, walkie talkies, toy
            drone, video game, karaoke machine, kids tablet, musical toy, xylophone, toy piano, play tent,
            ball pit, pool float, sand toys, easel, marble run, dinosaur toy, toy truck, fire truck, dress
            up costume, costume, wooden puzzle, pop it
            """
        ),
        _words(
            """
            lego, mattel, barbie, hasbro, fisher-price, hot wheels, nerf, melissa and doug, melissa & doug,
            playmobil, vtech, leapfrog, ravensburger, little tikes, funko, play-doh, crayola, step2,
            kidkraft, hape, green toys, magna-tiles, picasso tiles, squishmallows, jellycat, ty, gund, spin
            master, paw patrol, paw patrol, disney, marvel, star wars, pokemon, monopoly, uno, jenga, catan,
            osmo, lovevery, b. toys, munchkin, infantino, skip hop, radio flyer, micro kickboard,
            hatchimals, l.o.l. surprise, american girl, thomas and friends, brio, k'nex, mega bloks, duplo,
            schleich, national geographic, thames and kosmos, snap circuits, learning resources, fat brain
            toys, djeco, janod, tonies, yoto, nintendo, hot wheels
            """
        ),
        _TOY_MATERIALS,
        "kids",
        True,
        (
            "what age is it for",
            "does it need batteries",
            "is it safe for toddlers",
            "how many pieces are there",
            "is it educational",
            "is it suitable for a 3 year old",
            "does it make noise",
        ),
    ),
    Category(
        "pets",
        _words(
            """
            dog bed, cat bed, dog collar, dog leash, harness, dog harness, cat tree, scratching post, litter
            box, pet carrier, dog crate, dog bowl, pet fountain, dog toy, cat toy, chew toy, dog food, cat
            food, pet shampoo, aquarium, bird cage, dog sweater, dog coat, pet gate, grooming brush
            """
        ),
        _words(
            """
            kong, purina, pedigree, blue buffalo, chewy, frisco, petsafe, ruffwear, kurgo, catit, hill's,
            royal canin, friskies, whiskas, outward hound, nylabone, furminator, petmate, midwest, casper
            dog bed, wild one
            """
        ),
        _words(
            """
            nylon, rubber, plush, memory foam, stainless steel, ceramic, leather, rope, sisal
            """
        ),
        "generic",
        False,
        ("is it chew proof", "is it machine washable", "what size dog is it for", "is it safe for puppies"),
    ),
)

BUILTIN_COLORS: tuple[str, ...] = _words(
    """
    black, white, grey, gray, red, blue, navy, navy blue, green, olive, olive green, yellow, orange, pink,
    hot pink, purple, violet, lavender, lilac, brown, beige, cream, ivory, off white, tan, khaki, camel,
    burgundy, maroon, wine, teal, turquoise, aqua, mint, mint green, sage, sage green, emerald, emerald
    green, forest green, lime, lime green, mustard, gold, rose gold, silver, bronze, copper, charcoal,
    charcoal grey, slate, slate grey, taupe, mauve, peach, coral, salmon, rust, terracotta, magenta,
    fuchsia, indigo, cobalt, cobalt blue, royal blue, sky blue, light blue, baby blue, powder blue, dark
    blue, dark green, light green, light grey, light gray, dark grey, dark gray, denim blue, nude, blush,
    blush pink, champagne, chocolate, chocolate brown, natural, multicolor, multicolour, clear, transparent,
    matte black, jet black, midnight blue, midnight, plum, cherry red, burnt orange, sand, stone, oatmeal,
    heather grey, graphite, gunmetal, space gray, space grey, pearl, pearl white, snow white, off-white,
    ecru, mocha, cognac, chestnut, walnut brown, dusty rose, rose, raspberry, crimson, scarlet, ruby,
    cherry, lemon, canary yellow, ochre, amber, apricot, tangerine, neon green, neon pink, neon yellow,
    pastel pink, pastel blue, pastel green, periwinkle, cyan, seafoam, seafoam green, jade, hunter green,
    army green, moss green, khaki green, eggplant, aubergine, lilac purple, orchid, tortoise, tortoiseshell,
    leopard, camo, camouflage, floral, striped, plaid, checked, polka dot, tie dye, ombre, holographic,
    iridescent, metallic, metallic silver, champagne gold, brushed nickel, chrome, matte white, glossy
    black, smoke, ash grey, storm grey, steel blue, teal blue, petrol blue, electric blue, ice blue, berry,
    wine red, brick red, burgundy red, mustard yellow, butter yellow, sunflower yellow, grey melange, sea
    green, turquoise blue, coffee brown, mushroom brown, skin, steel, off white, nude pink, charcoal black,
    bone, linen white, vanilla, sepia, caramel
    """
)
#: brands that are also everyday words ("nothing over 600", "I guess", "for my brother"): not
#: used to fill templates, so the tagger never learns to mark those words as brands
_AMBIGUOUS_BRANDS = frozenset(
    {
        "article",
        "away",
        "only",
        "express",
        "loft",
        "next",
        "w",
        "on",
        "nothing",
        "boat",
        "noise",
        "sugar",
        "plum",
        "metro",
        "campus",
        "liberty",
        "secret",
        "native",
        "instant",
        "dash",
        "head",
        "ping",
        "smith",
        "bell",
        "sg",
        "ty",
        "cos",
        "vip",
        "safari",
        "purple",
        "rh",
        "hay",
        "branch",
        "ge",
        "ring",
        "kindle",
        "pixel",
        "command",
        "coop",
        "rivet",
        "benefit",
        "degree",
        "nest",
        "arena",
        "crucial",
        "brother",
        "sharp",
        "blink",
        "keen",
        "reef",
        "journeys",
        "guess",
        "fellow",
        "made in",
        "our place",
        "polo",
        "giant",
        "whoop",
    }
)
# (a few pattern words — floral, striped, plaid, camo — are tagged as the colour slot, as shops file them)

_GENDER_WORDS = ("men", "women", "boys", "girls", "unisex")


def _attribute_prefixed(t: str, types: frozenset[str], attributes: frozenset[str]) -> bool:
    """ "leather jacket", "linen shirt": a colour/material word in front of another type.  The
    labelling rules split those (material leather, product_type jacket), so they are no types."""
    words = t.split()
    for k in (1, 2):
        if len(words) > k and " ".join(words[:k]) in attributes and " ".join(words[k:]) in types:
            return True
    return False


_ALL_TYPES = frozenset(canonical_type(t) for cat in BUILTIN_CATEGORIES for t in cat.product_types)
_ATTRIBUTE_WORDS = frozenset(BUILTIN_COLORS) | frozenset(
    m for cat in BUILTIN_CATEGORIES for m in cat.materials
)
BUILTIN_CATEGORIES = tuple(
    replace(
        cat,
        brands=tuple(b for b in cat.brands if b not in _AMBIGUOUS_BRANDS),
        product_types=tuple(
            t
            for t in cat.product_types
            if t not in {"ups", "nas"}
            and not _attribute_prefixed(canonical_type(t), _ALL_TYPES, _ATTRIBUTE_WORDS)
        ),
    )
    for cat in BUILTIN_CATEGORIES
)


def builtin_vocabulary() -> CatalogVocabulary:
    """All built-in categories flattened."""
    types: list[str] = []
    brands: list[str] = []
    materials: list[str] = []
    sizes: list[str] = []
    for cat in BUILTIN_CATEGORIES:
        types += cat.product_types
        brands += cat.brands
        materials += cat.materials
        sizes += SIZE_KINDS[cat.size_kind]
    return CatalogVocabulary(
        product_types=tuple(types),
        brands=tuple(brands),
        colors=BUILTIN_COLORS,
        materials=tuple(materials),
        sizes=tuple(sizes),
        genders=_GENDER_WORDS,
    )


def _held(value: str, fraction: float, salt: str) -> bool:
    return (zlib.crc32(f"{salt}:{value}".encode()) % 10_000) < fraction * 10_000


def split_holdout(
    fraction: float = 0.15, *, keep: CatalogVocabulary | None = None, salt: str = "nlu-holdout-v1"
) -> tuple[CatalogVocabulary, CatalogVocabulary]:
    """Split the built-in vocabulary into (train, held out) by a stable hash of each value.

    Values in ``keep`` (the catalog's own words) are never held out.  Only product types,
    brands, colours and materials are held out; sizes and genders are closed sets.
    """
    full = builtin_vocabulary()
    keep = keep or CatalogVocabulary()

    def split(values: Sequence[str], kept: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        k = set(kept)
        held = tuple(v for v in values if v not in k and _held(v, fraction, salt))
        held_set = set(held)
        return tuple(v for v in values if v not in held_set), held

    t_train, t_held = split(full.product_types, keep.product_types)
    b_train, b_held = split(full.brands, keep.brands)
    c_train, c_held = split(full.colors, keep.colors)
    m_train, m_held = split(full.materials, keep.materials)
    train = CatalogVocabulary(t_train, b_train, c_train, m_train, full.sizes, full.genders)
    held = CatalogVocabulary(t_held, b_held, c_held, m_held, (), ())
    return train, held


def vocabulary_from_products(products: Iterable[Product]) -> CatalogVocabulary:
    """The vocabulary of a catalog: its product types, brands and filterable attributes."""
    types: list[str] = []
    brands: list[str] = []
    colors: list[str] = []
    materials: list[str] = []
    sizes: list[str] = []
    genders: list[str] = []
    for p in products:
        if p.product_type:
            types.append(p.product_type)
        if p.brand:
            brands.append(p.brand)
        attrs = p.attributes
        for name, bucket in (
            ("color", colors),
            ("material", materials),
            ("size", sizes),
            ("gender", genders),
        ):
            value = attrs.get(name)
            if not value:
                continue
            # "S, M, L" / "red/blue" list several values in one attribute
            for part in value.replace("/", ",").split(","):
                part = part.strip()
                if part and part.lower() not in {"na", "n/a", "none", "multi"}:
                    bucket.append(part)
    return CatalogVocabulary(
        product_types=tuple(types),
        brands=tuple(brands),
        colors=tuple(colors),
        materials=tuple(materials),
        sizes=tuple(sizes),
        genders=tuple(g for g in genders if g.lower() in _GENDER_WORDS),
    )


def _products_from_file(path: Path) -> list[Product]:
    """Products of a catalog file: ``retrieval._readers.read_catalog`` when it exists, else JSONL/CSV here."""
    from retrieval._schema import Product

    try:
        readers: Any = importlib.import_module("retrieval._readers")
    except ImportError:
        readers = None
    reader = getattr(readers, "read_catalog", None) if readers is not None else None
    if reader is not None:
        result = reader(path)
        items = getattr(result, "products", result)
        return [p for p in items if isinstance(p, Product)]
    products: list[Product] = []
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                record = json.loads(line)
                try:
                    products.append(Product.model_validate(record))
                except ValueError:
                    continue  # a bad product line does not stop vocabulary building
        return products
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            attrs: dict[str, Any] = {}
            raw = row.pop("attributes", None)
            if raw:
                try:
                    loaded = json.loads(raw)
                    if isinstance(loaded, dict):
                        attrs.update(loaded)
                except ValueError:
                    pass
            for key in list(row):
                if key and key.startswith("attr_"):
                    attrs[key[5:]] = row.pop(key)
            fields = {k: v for k, v in row.items() if k in Product.model_fields and v not in (None, "")}
            try:
                products.append(Product.model_validate({**fields, "attributes": attrs}))
            except ValueError:
                continue
    return products


def vocabulary_from_catalog_file(path: Path) -> CatalogVocabulary:
    """Read a catalog file (JSONL or CSV, the fields of DESIGN.md) and take its vocabulary."""
    return vocabulary_from_products(_products_from_file(path))
