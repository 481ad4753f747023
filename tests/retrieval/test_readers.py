"""Catalog readers: detection, field mapping per format, row errors, format errors, round trips."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval._readers import (
    FORMATS,
    CatalogFormatError,
    CatalogRead,
    RowError,
    detect_format,
    iter_catalog,
    read_catalog,
)
from retrieval._schema import Product

CATALOGS = Path(__file__).resolve().parents[1] / "data" / "catalogs"
CSV_FILE = CATALOGS / "products.csv"
JSONL_FILE = CATALOGS / "products.jsonl"
GMC_FILE = CATALOGS / "merchant_feed.tsv"
SHOPIFY_FILE = CATALOGS / "shopify_products.csv"

CSV_HEADER = "id,title,description,product_type,category,brand,price,currency,rating,rating_count,in_stock"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def by_id(read: CatalogRead) -> dict[str, Product]:
    return {p.id: p for p in read.products}


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("path", "fmt"),
    [(CSV_FILE, "csv"), (JSONL_FILE, "jsonl"), (GMC_FILE, "gmc"), (SHOPIFY_FILE, "shopify")],
)
def test_detect_format_of_each_fixture(path: Path, fmt: str) -> None:
    assert detect_format(path) == fmt
    assert read_catalog(path).format == fmt
    assert fmt in FORMATS


def test_detect_format_by_extension_and_content(tmp_path: Path) -> None:
    line = '{"id": "A1", "title": "Mug", "price": 5}\n'
    assert detect_format(write(tmp_path / "feed.ndjson", line)) == "jsonl"
    assert detect_format(write(tmp_path / "feed.txt", line)) == "jsonl"  # content, not extension
    assert detect_format(write(tmp_path / "semi.csv", "id;title;price\nA1;Mug;5\n")) == "csv"
    tsv = write(tmp_path / "plain.tsv", "id\ttitle\tprice\timage_url\nA1\tMug\t5\thttps://x/a.jpg\n")
    assert detect_format(tsv) == "csv"  # tabs, but no Merchant Center columns
    gmc_plain = "id\ttitle\tprice\tavailability\tlink\nA1\tMug\t5.00 USD\tin stock\thttps://x/a\n"
    assert detect_format(write(tmp_path / "feed.txt", gmc_plain)) == "gmc"


def test_tsv_with_the_csv_header_reads_like_the_csv(tmp_path: Path) -> None:
    with CSV_FILE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\n").writerows(rows)
    tsv = write(tmp_path / "products.tsv", out.getvalue())
    assert detect_format(tsv) == "csv"
    from_tsv, from_csv = read_catalog(tsv), read_catalog(CSV_FILE)
    assert from_tsv.products == from_csv.products
    assert from_tsv.errors == from_csv.errors


# --------------------------------------------------------------------------- csv


def test_csv_maps_every_field() -> None:
    read = read_catalog(CSV_FILE)
    products = by_id(read)
    assert list(products) == ["SOFA-001", "CHAIR-002", "RUG-004", "SHELF-006"]
    assert products["SOFA-001"] == Product(
        id="SOFA-001",
        title="Harbor 3-Seat Sofa",
        description="Deep-seated three-seater with feather-wrapped cushions, kiln-dried oak frame.",
        product_type="sofa",
        category="Home > Furniture > Sofas",
        brand="Harborline",
        price=1299.0,  # "$1,299.00"
        currency="USD",
        rating=4.6,
        rating_count=1204,  # "1,204"
        in_stock=True,  # "yes"
        # JSON column merged with attr_ columns; attr_color wins over the JSON "Color"
        attributes={"style": "Mid-century", "seats": "3", "color": "grey", "material": "velvet"},
        image_url="https://cdn.example.com/p/sofa-001.jpg",
        image_path=None,
    )
    chair = products["CHAIR-002"]
    # "out of stock", no currency
    assert (chair.in_stock, chair.currency, chair.price) == (False, "USD", 149.5)
    assert chair.image_path == "images/chair-002.jpg"  # relative path kept as given
    assert chair.image_url is None
    rug = products["RUG-004"]
    assert (rug.in_stock, rug.currency, rug.rating, rug.rating_count) == (False, "USD", None, 0)
    assert rug.attributes == {"size": "5x7", "pile": "flat", "color": "terracotta", "material": "wool"}
    assert products["SHELF-006"].in_stock is True  # "in stock"


def test_csv_row_errors_are_exact() -> None:
    read = read_catalog(CSV_FILE)
    assert read.errors == [
        RowError(3, "LAMP-003", "row 3 (id 'LAMP-003'): price 'abc' is not a number"),
        RowError(5, "TABLE-005", "row 5 (id 'TABLE-005'): missing title"),
        RowError(7, "SOFA-001", "row 7 (id 'SOFA-001'): duplicate id (first seen in row 1), skipped"),
    ]
    assert read.n_rows == 7
    assert by_id(read)["SOFA-001"].price == 1299.0  # the first SOFA-001 is kept


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"price": "-5.00"}, "price '-5.00' is negative"),
        ({"price": ""}, "missing price"),
        ({"title": "", "price": ""}, "missing title, price"),
        ({"rating": "7"}, "rating '7' is out of range 0..5"),
        ({"rating": "great"}, "rating 'great' is not a number"),
        ({"rating_count": "many"}, "rating_count 'many' is not a whole number"),
        ({"rating_count": "-3"}, "rating_count -3: input should be greater than or equal to 0"),
        (
            {"attributes": "{color: red}"},
            "attributes is not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        ),
        ({"attributes": '["red"]'}, "attributes must be a JSON object, not a list"),
        (
            {"in_stock": "maybe"},
            "in_stock 'maybe' is not one of true/false, yes/no, 1/0, in stock/out of stock",
        ),
        ({"price": "12.00 EUR", "currency": "USD"}, "price is in EUR but currency is 'USD'"),
        ({"currency": "US"}, "currency 'US': string should have at least 3 characters"),
        ({"id": "B 2"}, "id 'B 2': id may only hold letters, digits and . _ : - (at most 128)"),
    ],
)
def test_csv_bad_row_reasons(tmp_path: Path, cells: dict[str, str], reason: str) -> None:
    columns = ["id", "title", "price", "currency", "rating", "rating_count", "in_stock", "attributes"]
    good = {"id": "A1", "title": "Mug", "price": "5", "currency": "USD"}
    bad = {"id": "B2", "title": "Bowl", "price": "7.50", "currency": "USD", **cells}
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows([good, bad])
    read = read_catalog(write(tmp_path / "c.csv", out.getvalue()))
    assert [p.id for p in read.products] == ["A1"]
    pid = bad["id"] or None
    assert read.errors == [RowError(2, pid, f"row 2 (id {pid!r}): {reason}")]


def test_csv_row_with_extra_values_and_blank_rows(tmp_path: Path) -> None:
    text = "id,title,price\nA1,Mug,5\n\nB2,Bowl, large,7\nC3,Cup,4,\n"
    read = read_catalog(write(tmp_path / "c.csv", text))
    assert [p.id for p in read.products] == ["A1", "C3"]  # a trailing empty value is fine
    assert read.errors == [
        RowError(3, "B2", "row 3 (id 'B2'): 4 values but the header has 3 columns (an unquoted delimiter?)")
    ]
    assert read.n_rows == 3  # the blank row is not a record, but keeps the numbering


@pytest.mark.parametrize(
    ("cell", "price", "currency"),
    [
        ("$1,299.00", 1299.0, "USD"),
        ("1299", 1299.0, "USD"),
        ("15.00 USD", 15.0, "USD"),
        ("EUR 15", 15.0, "EUR"),
        ("1.299,00 €", 1299.0, "EUR"),
        ("12,50", 12.5, "USD"),
        ("£3.10", 3.1, "GBP"),
        ("US$ 7", 7.0, "USD"),
        ("1 299.5", 1299.5, "USD"),
        ("0", 0.0, "USD"),
    ],
)
def test_csv_price_formats(tmp_path: Path, cell: str, price: float, currency: str) -> None:
    out = io.StringIO()
    csv.writer(out).writerows([["id", "title", "price"], ["A1", "Mug", cell]])
    read = read_catalog(write(tmp_path / "c.csv", out.getvalue()))
    assert read.errors == []
    assert (read.products[0].price, read.products[0].currency) == (price, currency)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", True),
        ("Yes", True),
        ("1", True),
        ("In Stock", True),
        ("in_stock", True),
        ("", True),
        ("FALSE", False),
        ("no", False),
        ("0", False),
        ("out of stock", False),
    ],
)
def test_csv_in_stock_values(tmp_path: Path, cell: str, expected: bool) -> None:
    read = read_catalog(write(tmp_path / "c.csv", f"id,title,price,in_stock\nA1,Mug,5,{cell}\n"))
    assert read.products[0].in_stock is expected


def test_csv_header_is_case_insensitive_and_other_columns_become_attributes(tmp_path: Path) -> None:
    text = "ID,Title,Price,Colour,attr_size,Notes\nA1,Mug,5,Blue,L,\n"
    (product,) = read_catalog(write(tmp_path / "c.csv", text)).products
    assert product.attributes == {"colour": "Blue", "size": "l"}


def test_csv_with_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid,title,price\r\nA1,Caf\xc3\xa9 Mug,5\r\n")
    assert detect_format(path) == "csv"
    (product,) = read_catalog(path).products
    assert (product.id, product.title) == ("A1", "Café Mug")


# --------------------------------------------------------------------------- jsonl


def test_jsonl_maps_every_field_and_reports_the_invalid_line() -> None:
    read = read_catalog(JSONL_FILE)
    products = by_id(read)
    assert list(products) == ["KETTLE-01", "GRINDER-02", "FILTER-04"]
    assert products["KETTLE-01"] == Product(
        id="KETTLE-01",
        title="Stovetop Gooseneck Kettle",
        description="1 L stainless steel pour-over kettle.",
        product_type="kettle",
        category="Home > Kitchen > Kettles",
        brand="Brewline",
        price=59.0,
        currency="USD",
        rating=4.7,
        rating_count=532,
        in_stock=True,
        attributes={"color": "matte black", "material": "stainless steel", "capacity_l": "1.0"},
        image_url=None,
        image_path="images/kettle-01.jpg",
    )
    grinder = products["GRINDER-02"]
    assert (grinder.price, grinder.in_stock, grinder.rating) == (129.0, False, None)  # "129.00", "no", null
    filters = products["FILTER-04"]
    assert (filters.description, filters.brand, filters.currency, filters.rating_count) == ("", "", "USD", 0)
    assert read.errors == [
        RowError(
            3,
            "SCALE-03",
            "line 3 (id 'SCALE-03'): invalid JSON "
            "(Expecting property name enclosed in double quotes at column 1)",
        )
    ]
    assert read.n_rows == 4  # the blank line 4 is skipped


def test_jsonl_bad_lines(tmp_path: Path) -> None:
    lines = [
        '{"id": "A1", "title": "Mug", "price": 5}',
        '["A2", "Bowl", 5]',
        '{"id": "A3", "title": "Cup", "price": -1}',
        '{"id": "A4", "title": "Jug", "price": true}',
        '{"id": "A5", "title": "Pot", "price": 9, "attributes": "red"}',
        '{"id": "A6", "title": "Pan", "price": 9, "rating": 5.5}',
        '{"id": "A7", "title": "Lid", "price": 9, "extras": {"x": 1}}',
        '{"id": 8, "title": "Tray", "price": "8.00", "colour": "Teal", "in_stock": 0}',
    ]
    read = read_catalog(write(tmp_path / "c.jsonl", "\n".join(lines) + "\n"))
    assert [p.id for p in read.products] == ["A1", "8"]
    assert by_id(read)["8"].attributes == {"colour": "Teal"}
    assert by_id(read)["8"].in_stock is False
    assert [e.reason for e in read.errors] == [
        "line 2: expected a JSON object, got a list",
        "line 3 (id 'A3'): price -1 is negative",
        "line 4 (id 'A4'): price must be a number, not a boolean",
        "line 5 (id 'A5'): attributes must be a JSON object, not a string",
        "line 6 (id 'A6'): rating 5.5 is out of range 0..5",
        "line 7 (id 'A7'): unknown field 'extras' (put it under attributes)",
    ]
    assert [e.row for e in read.errors] == [2, 3, 4, 5, 6, 7]


# --------------------------------------------------------------------------- google merchant center


def test_gmc_maps_every_field() -> None:
    read = read_catalog(GMC_FILE)
    products = by_id(read)
    assert list(products) == ["SOFA-GRY-3S", "TEE-BLK-M", "DRESS-RED-S", "LAMP-BRS-01", "BOOT-BRN-42"]
    assert products["SOFA-GRY-3S"] == Product(
        id="SOFA-GRY-3S",
        title="Harbor 3-Seat Sofa in Slate Grey",
        description="Three-seat sofa, performance velvet.",
        product_type="sofa",  # last level of product_type, singular
        category="Home > Furniture > Sofas",
        brand="Harborline",
        price=649.0,  # sale_price
        currency="USD",
        in_stock=True,
        attributes={
            "list_price": "799.00",
            "link": "https://shop.example.com/p/sofa-gry-3s",
            "google_product_category": "460",
            "color": "slate grey",
            "material": "velvet",
            "gender": "unisex",
            "age_group": "adult",
            "condition": "new",
            "item_group_id": "SOFA-HARBOR",
            "gtin": "00812345678905",
            "mpn": "HB-3S-GRY",
            "shipping_weight": "42 kg",  # an extra column
        },
        image_url="https://cdn.example.com/p/sofa-gry-3s.jpg",
    )
    tee, dress = products["TEE-BLK-M"], products["DRESS-RED-S"]
    assert (tee.product_type, tee.category) == ("t-shirt", "Apparel > Tops > T-Shirts")
    assert (tee.price, tee.in_stock) == (45.0, False)
    assert (tee.attributes["gender"], tee.attributes["size"]) == ("men", "m")
    assert "list_price" not in tee.attributes
    assert (dress.in_stock, dress.attributes["availability"], dress.attributes["gender"]) == (
        False,
        "preorder",
        "women",
    )
    lamp = products["LAMP-BRS-01"]
    assert (lamp.in_stock, lamp.attributes["availability"]) == (False, "backorder")
    assert (lamp.product_type, lamp.category) == ("", "")  # a numeric google_product_category is no path
    boot = products["BOOT-BRN-42"]
    assert (boot.price, boot.currency) == (129.99, "EUR")
    assert (boot.product_type, boot.category) == ("boot", "Apparel & Accessories > Shoes > Boots")
    reason = "row 6 (id 'GIFT-CARD-50'): price 'free' is not a number"
    assert read.errors == [RowError(6, "GIFT-CARD-50", reason)]
    assert read.n_rows == 6


def test_gmc_plain_headers_read_like_prefixed_ones(tmp_path: Path) -> None:
    text = GMC_FILE.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    plain = write(tmp_path / "feed.txt", header.replace("g:", "") + "\n" + rest)
    assert detect_format(plain) == "gmc"
    assert read_catalog(plain).products == read_catalog(GMC_FILE).products


def test_gmc_bad_availability(tmp_path: Path) -> None:
    text = "id\ttitle\tprice\tavailability\nA1\tMug\t5.00 USD\tsoon\n"
    read = read_catalog(write(tmp_path / "feed.tsv", text))
    assert read.errors == [
        RowError(
            1,
            "A1",
            "row 1 (id 'A1'): availability 'soon' is not one of in stock, out of stock, preorder, backorder",
        )
    ]


# --------------------------------------------------------------------------- shopify


def test_shopify_one_product_per_variant() -> None:
    read = read_catalog(SHOPIFY_FILE)
    products = by_id(read)
    assert list(products) == [
        "merino-crew-tee--MCT-S",
        "merino-crew-tee--MCT-M",
        "merino-crew-tee--MCT-L",
        "oak-coffee-table",
        "stoneware-mug-set",
        "insulated-bottle--TM-500-BLK",  # SKU "TM 500/BLK" sanitised to the id charset
        "insulated-bottle--2",  # no SKU: 1-based variant index
    ]
    description = (
        "Our Merino Crew Tee is knitted from 150 gsm merino & breathes on warm days.\n"
        "- Fits true to size\n"
        "- Machine wash cold"
    )
    assert products["merino-crew-tee--MCT-S"] == Product(
        id="merino-crew-tee--MCT-S",
        title="Merino Crew Tee - S / Charcoal",
        description=description,
        product_type="t-shirt",
        category="Apparel & Accessories > Clothing > Shirts & Tops",
        brand="Northwool",
        price=45.0,
        currency="USD",
        in_stock=True,
        attributes={
            "size": "s",
            "color": "charcoal",  # option "Colour"
            "sku": "MCT-S",
            "gtin": "0812345600011",
            "list_price": "55.00",
            "weight_g": "180",
            "tags": "merino, basics, summer",
            "gender": "men",
            "age_group": "Adult",
        },
        image_url="https://cdn.shopify.com/s/files/1/tee-front.jpg",
    )
    medium, large = products["merino-crew-tee--MCT-M"], products["merino-crew-tee--MCT-L"]
    assert medium.title == "Merino Crew Tee - M / Charcoal"
    assert (medium.in_stock, medium.attributes["size"]) == (False, "m")  # Variant Inventory Qty 0
    assert medium.image_url == "https://cdn.shopify.com/s/files/1/tee-front.jpg"  # the product's first image
    assert (large.price, large.in_stock) == (49.0, True)
    assert large.image_url == "https://cdn.shopify.com/s/files/1/tee-l.jpg"  # its Variant Image
    assert medium.description == large.description == description


def test_shopify_single_variant_image_rows_and_html() -> None:
    products = by_id(read_catalog(SHOPIFY_FILE))
    table = products["oak-coffee-table"]
    assert table.title == "Oak Coffee Table"  # one variant: no option suffix
    assert (table.price, table.product_type, table.category) == (
        1249.0,
        "coffee table",
        "Furniture > Tables > Coffee Tables",
    )
    assert table.description == "Solid oak\nOiled finish, 110×60 cm."
    assert table.image_url == "https://cdn.shopify.com/s/files/1/table-top.jpg"
    assert table.attributes == {"sku": "OW-CT-110", "weight_g": "18000", "tags": "oak, living room"}
    mugs = products["stoneware-mug-set"]
    # no Variant Inventory Qty value: in stock
    assert (mugs.product_type, mugs.category, mugs.in_stock) == ("mug", "", True)
    assert mugs.description == "Set of four 350 ml mugs – dishwasher safe."
    bottle = products["insulated-bottle--2"]
    assert bottle.title == "Insulated Bottle 500 ml - White / Stainless Steel"
    assert bottle.description == "Keeps drinks cold for 24 h."  # the <script> is gone
    assert (bottle.in_stock, bottle.attributes["color"], bottle.attributes["material"]) == (
        False,
        "white",
        "stainless steel",
    )
    for product in products.values():
        assert "<" not in product.description and "&" not in product.description.replace(" & ", "")


def test_shopify_draft_is_reported_and_rows_counted() -> None:
    read = read_catalog(SHOPIFY_FILE)
    assert read.errors == [
        RowError(6, "linen-duvet-cover", "row 6 (id 'linen-duvet-cover'): product is draft (Status), skipped")
    ]
    assert read.n_rows == 10  # 10 data rows: 3 + 2 + 2 + 1 + 2


def test_shopify_rows_of_a_handle_must_be_consecutive(tmp_path: Path) -> None:
    text = (
        "Handle,Title,Variant SKU,Variant Price,Status\n"
        "mug,Mug,M1,5,active\n"
        "bowl,Bowl,B1,7,active\n"
        "mug,Mug again,M2,6,active\n"
        "cup,Cup,C1,,active\n"
    )
    read = read_catalog(write(tmp_path / "shop.csv", text))
    assert [p.id for p in read.products] == ["mug", "bowl"]
    assert [e.reason for e in read.errors] == [
        "row 3 (id 'mug'): handle already used in row 1 (rows of one product must follow each other)",
        "row 4 (id 'cup'): missing Variant Price",
    ]


def test_shopify_archived_and_unpublished(tmp_path: Path) -> None:
    with_status = "Handle,Title,Variant Price,Status\nmug,Mug,5,archived\nbowl,Bowl,7,Active\n"
    read = read_catalog(write(tmp_path / "a.csv", with_status))
    assert [p.id for p in read.products] == ["bowl"]
    assert [str(e) for e in read.errors] == ["row 1 (id 'mug'): product is archived (Status), skipped"]
    # older exports have no Status column: Published decides
    no_status = "Handle,Title,Variant Price,Published\nmug,Mug,5,FALSE\nbowl,Bowl,7,TRUE\n"
    read = read_catalog(write(tmp_path / "b.csv", no_status))
    assert [p.id for p in read.products] == ["bowl"]
    (error,) = read.errors
    assert str(error) == "row 1 (id 'mug'): product is not published (Published), skipped"


# --------------------------------------------------------------------------- not a catalog


def _format_error(path: Path) -> str:
    with pytest.raises(CatalogFormatError) as info:
        detect_format(path)
    with pytest.raises(CatalogFormatError):
        iter_catalog(path)  # eager: raised by the call, before any next()
    with pytest.raises(CatalogFormatError):
        read_catalog(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(path.name)
    return message


def test_pdf_renamed_csv(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    assert "PDF" in _format_error(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert "empty" in _format_error(path)


def test_csv_without_the_needed_columns(tmp_path: Path) -> None:
    message = _format_error(write(tmp_path / "c.csv", "sku,name,cost\nA1,Mug,5\n"))
    assert message == (
        "c.csv: not a catalog: no 'id', 'title' or 'price' column in the header "
        "(a catalog needs id, title and price; found: sku, name, cost)"
    )
    with pytest.raises(CatalogFormatError, match="no 'price' column"):
        read_catalog(write(tmp_path / "d.csv", "id,title,cost\nA1,Mug,5\n"), "csv")


def test_shopify_export_without_prices(tmp_path: Path) -> None:
    message = _format_error(write(tmp_path / "s.csv", "Handle,Title,Vendor\nmug,Mug,Kiln\n"))
    assert "no 'variant price' column" in message and "Shopify" in message


@pytest.mark.parametrize("name", ["catalog.json", "catalog.jsonl"])
def test_json_array_file(tmp_path: Path, name: str) -> None:
    text = json.dumps([{"id": "A1", "title": "Mug", "price": 5}])
    assert "JSON array" in _format_error(write(tmp_path / name, text))


def test_pretty_printed_json_document(tmp_path: Path) -> None:
    text = json.dumps({"id": "A1", "title": "Mug", "price": 5}, indent=2)
    assert "several lines" in _format_error(write(tmp_path / "catalog.json", text))


def test_csv_named_jsonl(tmp_path: Path) -> None:
    assert "not JSON Lines" in _format_error(write(tmp_path / "c.jsonl", "id,title,price\nA1,Mug,5\n"))


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,title,price\nA1,Café Mug,5\n".encode("latin-1"))
    assert _format_error(path) == "latin1.csv: not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8"


def test_invalid_utf8_after_the_first_block(tmp_path: Path) -> None:
    good = "".join(f"A{i},Mug number {i},5\n" for i in range(4000))  # > 64 KiB
    path = tmp_path / "late.csv"
    path.write_bytes(("id,title,price\n" + good).encode() + "Z1,Café,5\n".encode("latin-1"))
    assert detect_format(path) == "csv"
    items = iter_catalog(path)
    with pytest.raises(CatalogFormatError, match="not UTF-8"):
        list(items)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"id,title,price\nA1,M\x00ug,5\n", "binary"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (b"\xff\xfei\x00d\x00", "UTF-16"),
        (b'<?xml version="1.0"?><rss></rss>', "XML"),
    ],
)
def test_other_non_catalogs(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(content)
    assert words in _format_error(path)


def test_unknown_format_name() -> None:
    with pytest.raises(CatalogFormatError, match="unknown catalog format 'xml'"):
        read_catalog(CSV_FILE, "xml")


def test_iter_catalog_streams() -> None:
    items = iter_catalog(CSV_FILE)
    first = next(items)
    assert isinstance(first, Product) and first.id == "SOFA-001"
    rest = list(items)
    kinds = [type(i).__name__ for i in rest]
    assert kinds == ["Product", "RowError", "Product", "RowError", "Product", "RowError"]


# --------------------------------------------------------------------------- round trip (property)

_TEXT = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\t\r")
_SAFE = st.characters(exclude_categories=("Cs", "Cc"))


def _nonblank(alphabet: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=max_size).filter(lambda s: bool(s.strip()))


@st.composite
def products(draw: st.DrawFn) -> Product:
    data: dict[str, Any] = {
        "id": draw(st.from_regex(r"[A-Za-z0-9._:\-]{1,24}", fullmatch=True)),
        "title": draw(_nonblank(_SAFE, 40)),
        "description": draw(st.text(_TEXT, max_size=80)),
        "product_type": draw(st.text(_SAFE, max_size=20)),
        "category": draw(st.text(_SAFE, max_size=40)),
        "brand": draw(st.text(_SAFE, max_size=20)),
        "price": draw(st.floats(0, 10_000_000, allow_nan=False)),
        "currency": draw(st.sampled_from(["USD", "EUR", "GBP", "JPY", "INR"])),
        "rating": draw(st.none() | st.floats(0, 5)),
        "rating_count": draw(st.integers(0, 10**9)),
        "in_stock": draw(st.booleans()),
        "attributes": draw(st.dictionaries(_nonblank(_SAFE, 12), _nonblank(_SAFE, 20), max_size=4)),
        "image_url": draw(st.none() | _nonblank(_SAFE, 30)),
        "image_path": draw(st.none() | _nonblank(_SAFE, 30)),
    }
    return Product.model_validate(data)  # canonical (normalised) form


_CATALOGS = st.lists(products(), min_size=1, max_size=6, unique_by=lambda p: p.id)
_ROUND_TRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _csv_text(items: list[Product], *, attr_columns: bool) -> str:
    fields = ["id", "title", "description", "product_type", "category", "brand", "price", "currency"]
    fields += ["rating", "rating_count", "in_stock", "image_url", "image_path"]
    names = sorted({name for p in items for name in p.attributes}) if attr_columns else []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fields + ([f"attr_{n}" for n in names] if attr_columns else ["attributes"]))
    for p in items:
        row = [
            "" if value is None else repr(value) if isinstance(value, float) else str(value)
            for value in (getattr(p, f) for f in fields)
        ]
        if attr_columns:
            row += [p.attributes.get(n, "") for n in names]
        else:
            row.append(json.dumps(p.attributes, ensure_ascii=False))
        writer.writerow(row)
    return out.getvalue()


def _read_text(name: str, text: str) -> CatalogRead:
    folder = Path(tempfile.mkdtemp())
    try:
        return read_catalog(write(folder / name, text))
    finally:
        shutil.rmtree(folder)


@_ROUND_TRIP
@given(_CATALOGS)
def test_round_trip_jsonl(items: list[Product]) -> None:
    text = "".join(json.dumps(p.model_dump()) + "\n" for p in items)
    read = _read_text("catalog.jsonl", text)
    assert read.errors == []
    assert read.products == items


@_ROUND_TRIP
@given(_CATALOGS, st.booleans())
def test_round_trip_csv(items: list[Product], attr_columns: bool) -> None:
    read = _read_text("catalog.csv", _csv_text(items, attr_columns=attr_columns))
    assert read.format == "csv"
    assert read.errors == []
    assert read.products == items
