"""Upload checks: every rejection code, EXIF orientation, colour modes, aspect-preserving padding."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from tests.vision.conftest import encode
from vision import (
    MAX_BYTES,
    HistogramEmbedder,
    ImageRejected,
    decode_image,
    pad_to_square,
    sniff_image_format,
    to_array,
)
from vision.preprocess import IMAGENET_MEAN, IMAGENET_STD


def _rejected(data: bytes, **limits: int) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        decode_image(data, **limits)
    assert info.value.message and "\n" not in info.value.message
    return info.value


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width×height RGB but carries almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_sniff_reads_magic_bytes_not_names() -> None:
    img = Image.new("RGB", (4, 4), "red")
    assert sniff_image_format(encode(img, "JPEG")) == "jpeg"
    assert sniff_image_format(encode(img, "PNG")) == "png"
    assert sniff_image_format(encode(img, "WEBP")) == "webp"
    assert sniff_image_format(encode(img, "GIF")) is None
    assert sniff_image_format(b"%PDF-1.7\n...") is None
    assert sniff_image_format(b"") is None


def test_empty_file() -> None:
    exc = _rejected(b"")
    assert exc.code == "empty_file"
    assert exc.status_code == 400


def test_pdf_renamed_jpg_is_unsupported() -> None:
    exc = _rejected(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
    assert exc.code == "unsupported_type"
    assert "PDF" in exc.message
    assert exc.status_code == 415


@pytest.mark.parametrize(
    ("data", "word"),
    [
        (encode(Image.new("RGB", (4, 4)), "GIF"), "GIF"),
        (b"hello, this is a text file\n", "text"),
        (encode(Image.new("RGB", (4, 4)), "BMP"), "BMP"),
    ],
)
def test_other_types_are_unsupported(data: bytes, word: str) -> None:
    exc = _rejected(data)
    assert exc.code == "unsupported_type"
    assert word in exc.message


def test_truncated_jpeg_is_corrupt(rng: np.random.Generator) -> None:
    noisy = Image.fromarray(rng.integers(0, 256, size=(200, 200, 3), dtype=np.uint8))
    data = encode(noisy, "JPEG", quality=90)
    exc = _rejected(data[: len(data) // 2])
    assert exc.code == "corrupt_image"


def test_garbage_after_png_header_is_corrupt() -> None:
    data = encode(Image.new("RGB", (32, 32), "blue"), "PNG")
    exc = _rejected(data[:40] + b"\x00garbage" * 20)
    assert exc.code == "corrupt_image"


@pytest.mark.parametrize("side", [7_000, 10_000, 20_000])
def test_header_with_too_many_pixels_is_refused_without_decoding(side: int) -> None:
    # 49 M (over our 40 M limit), 100 M (PIL's bomb warning) and 400 M pixels (PIL's bomb error)
    data = _png_header_only(side, side)
    tracemalloc.start()
    try:
        exc = _rejected(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exc.code == "too_many_pixels"
    assert exc.status_code == 413
    assert peak < 20 * 2**20  # the pixels (≥ 147 MB) were never allocated


def test_over_8_mib_is_too_large() -> None:
    data = encode(Image.new("RGB", (8, 8)), "JPEG")
    exc = _rejected(data + b"\x00" * (MAX_BYTES + 1 - len(data)))
    assert exc.code == "too_large"
    assert "8 MiB" in exc.message


def test_limits_are_arguments() -> None:
    data = encode(Image.new("RGB", (100, 100)), "PNG")
    assert _rejected(data, max_pixels=9_999).code == "too_many_pixels"
    assert _rejected(data, max_bytes=10).code == "too_large"
    assert decode_image(data).size == (100, 100)


def _asymmetric(w: int = 60, h: int = 80) -> Image.Image:
    arr = np.full((h, w, 3), 255, dtype=np.uint8)
    arr[: h // 3, :, :] = (200, 20, 20)  # red top
    arr[:, : w // 4, :] = (20, 20, 200)  # blue left edge
    return Image.fromarray(arr)


@pytest.mark.parametrize(
    ("orientation", "stored"), [(6, Image.Transpose.ROTATE_90), (3, Image.Transpose.ROTATE_180)]
)
def test_exif_orientation_is_applied(orientation: int, stored: Image.Transpose) -> None:
    upright = _asymmetric()
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(upright.transpose(stored), "JPEG", quality=95, exif=exif)
    decoded = decode_image(data)
    assert decoded.size == upright.size
    diff = np.abs(np.asarray(decoded, dtype=np.int16) - np.asarray(upright, dtype=np.int16)).mean()
    assert diff < 6
    hist = HistogramEmbedder()
    a, b = hist.embed([upright, decoded])
    unrotated = hist.embed([upright.transpose(stored)])[0]
    assert float(a @ b) > 0.95  # JPEG re-encoding blurs a little
    assert float(a @ b) > float(a @ unrotated)


def test_exif_rotated_photo_embeds_like_upright_with_the_cnn(backbone: object) -> None:
    from vision import CnnEmbedder

    upright = _asymmetric()
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = decode_image(
        encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif)
    )
    a, b, c = CnnEmbedder().embed([upright, rotated, upright.transpose(Image.Transpose.ROTATE_90)])
    assert float(a @ b) > 0.97
    assert float(a @ b) > float(a @ c)


def test_transparent_png_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    rgba.putpixel((5, 5), (0, 0, 255, 255))
    img = decode_image(encode(rgba, "PNG"))
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((5, 5)) == (0, 0, 255)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "I;16", "CMYK", "RGBA"])
def test_every_mode_decodes_to_rgb(mode: str) -> None:
    if mode == "I;16":
        arr = np.linspace(0, 65535, 30 * 20, dtype=np.uint16).reshape(20, 30)
        img = Image.fromarray(arr)
        data = encode(img, "PNG")
    elif mode == "CMYK":
        data = encode(Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG")
    else:
        data = encode(Image.new("RGB", (30, 20), (200, 100, 50)).convert(mode), "PNG")
    out = decode_image(data)
    assert out.mode == "RGB"
    assert out.size == (30, 20)
    arr = np.asarray(out)
    assert arr.dtype == np.uint8
    if mode == "I;16":  # 16-bit scaled to 8-bit, not clipped: the ramp spans black to white
        assert arr.min() == 0 and arr.max() == 255
    if mode == "CMYK":  # cyan-free, full magenta + yellow = red
        r, g, b = (int(v) for v in arr[10, 15])
        assert r > 200 and g < 60 and b < 60


def test_padding_keeps_the_aspect_ratio() -> None:
    wide = Image.new("RGB", (200, 50), (255, 0, 0))
    square = pad_to_square(wide, 64, "white")
    arr = np.asarray(square)
    assert square.size == (64, 64)
    red_rows = np.where((arr[:, 32] == (255, 0, 0)).all(axis=1))[0]
    assert 15 <= len(red_rows) <= 17  # 200×50 → 64×16: not squashed to 64×64
    assert (arr[0, 32] == (255, 255, 255)).all() and (arr[-1, 32] == (255, 255, 255)).all()


def test_edge_padding_continues_the_background() -> None:
    img = Image.new("RGB", (40, 80), (10, 200, 10))
    img.paste((250, 0, 0), (15, 30, 25, 50))
    arr = np.asarray(pad_to_square(img, 64, "edge"))
    assert tuple(arr[32, 0]) == (10, 200, 10)  # the green border, not white


def test_to_array_is_normalised_chw() -> None:
    x = to_array(Image.new("RGB", (60, 80), (255, 255, 255)), 32, fill="white")
    assert x.shape == (3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, 0], (1 - IMAGENET_MEAN) / IMAGENET_STD, rtol=1e-5)


def test_rejection_is_a_value_error_with_a_code() -> None:
    exc = ImageRejected("corrupt_image", "broken")
    assert isinstance(exc, ValueError)
    assert str(exc) == "broken" and exc.code == "corrupt_image"
    assert io is not None
