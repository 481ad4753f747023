"""Upload validation and CNN input preparation for image matching.

Shoppers upload whatever their phone or browser hands over: PDFs renamed ``.jpg``, 16-bit PNGs,
CMYK JPEGs, rotated photos with an EXIF flag, or a crafted file whose header claims 100 megapixels.
:func:`decode_image` turns bytes into a plain RGB :class:`PIL.Image.Image` or raises
:class:`ImageRejected` with a machine code the API maps to a 4xx answer.  It trusts the magic bytes,
never the file name, and checks the declared size before any pixel is allocated.

:func:`to_array` is the one place that turns an image into a network input: it keeps the aspect
ratio and pads to a square (product photos are portrait 3:4; squashing them would change a
boot into a sandal), then normalises with the ImageNet mean and standard deviation.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MAX_BYTES",
    "MAX_PIXELS",
    "ImageRejected",
    "ImageFormat",
    "PadFill",
    "decode_image",
    "load_image",
    "pad_to_square",
    "sniff_image_format",
    "to_array",
    "to_rgb",
]

ImageFormat = Literal["jpeg", "png", "webp"]
PadFill = Literal["white", "edge"]

MAX_BYTES: Final = 8 * 1024 * 1024
MAX_PIXELS: Final = 40_000_000
IMAGENET_MEAN: Final = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD: Final = np.array([0.229, 0.224, 0.225], dtype=np.float32)

_PIL_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
#: magic bytes of formats people upload by mistake, to name them in the message
_KNOWN_OTHERS: Final = (
    (b"%PDF", "a PDF document"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x00\x00\x00", "an ISO media file (HEIC/AVIF/MP4)"),
)
_ACCEPTED: Final = "send a JPEG, PNG or WebP photo"


class ImageRejected(ValueError):
    """An upload that cannot be used as a photo; ``code`` is stable, ``message`` is for people.

    ``status_code`` is the HTTP status the API should answer with, so the route needs no table of
    its own (the error knows its status, as in chroma's ``errors.py``).
    """

    STATUS: Final = {
        "empty_file": 400,
        "too_large": 413,
        "unsupported_type": 415,
        "too_many_pixels": 413,
        "corrupt_image": 400,
    }

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status_code(self) -> int:
        return self.STATUS.get(self.code, 400)

    def __repr__(self) -> str:
        return f"ImageRejected({self.code!r}, {self.message!r})"


def sniff_image_format(data: bytes) -> ImageFormat | None:
    """The image format named by the leading magic bytes, or ``None``; the file name is never asked."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _describe(data: bytes) -> str:
    for magic, name in _KNOWN_OTHERS:
        if data.startswith(magic):
            return name
    head = data[:64]
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "text"
    return "not an image we can read"


def decode_image(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Validate and fully decode an upload into an upright RGB image.

    The order matters: cheap checks first (length, magic bytes), then the pixel count from the
    header alone, and only then the real decode, inside a ``try`` so that a truncated or garbled
    body becomes ``corrupt_image`` instead of a 500.  PIL's own decompression-bomb warning and
    error are turned into ``too_many_pixels``.

    Raises:
        ImageRejected: ``empty_file``, ``too_large``, ``unsupported_type``, ``too_many_pixels``
            or ``corrupt_image``.
    """
    if not data:
        raise ImageRejected("empty_file", "the file is empty")
    if len(data) > max_bytes:
        raise ImageRejected(
            "too_large", f"the file is {len(data) / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB"
        )
    fmt = sniff_image_format(data)
    if fmt is None:
        raise ImageRejected("unsupported_type", f"the file is {_describe(data)}; {_ACCEPTED}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageRejected("too_many_pixels", "the image has too many pixels") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageRejected("corrupt_image", f"the {fmt.upper()} file cannot be read ({exc})") from None
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageRejected("corrupt_image", f"the image declares a size of {width}×{height}")
    if width * height > max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"the image is {width}×{height} = {width * height / 1e6:.0f} megapixels; "
            f"the limit is {max_pixels / 1e6:.0f}",
        )
    try:
        img.load()  # forces the full decode: truncated data fails here, not later in the model
        return to_rgb(_upright(img))
    except ImageRejected:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise ImageRejected("corrupt_image", f"the {fmt.upper()} file is damaged ({exc})") from None


def load_image(path: str | os.PathLike[str], **limits: int) -> Image.Image:
    """:func:`decode_image` on a file's bytes (catalog photos go through the same checks as uploads)."""
    with open(path, "rb") as fh:
        return decode_image(fh.read(), **limits)


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block is ignored rather than rejecting the photo."""
    try:
        rotated = ImageOps.exif_transpose(img)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        return img
    return rotated if rotated is not None else img


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB from any PIL mode: transparency is composited on white, 16-bit is scaled, CMYK converted.

    Why white: catalog photos are shot on white, so a cut-out PNG should look like one of them.
    """
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or (mode == "I" and arr.max(initial=0) > 255) else 255.0
        if mode == "F" and arr.max(initial=0) <= 1.0:
            top = 1.0
        grey = np.clip(arr * (255.0 / top), 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in img.info
    )
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _edge_colour(img: Image.Image) -> tuple[int, int, int]:
    """Median colour of the one-pixel border: the photo's background, continued into the padding."""
    arr = np.asarray(img, dtype=np.uint8)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]], axis=0)
    r, g, b = (int(v) for v in np.median(border, axis=0))
    return r, g, b


def pad_to_square(img: Image.Image, size: int, fill: PadFill = "edge") -> Image.Image:
    """Resize so the longer side is ``size`` (aspect kept) and centre it on a ``size``×``size`` canvas."""
    img = to_rgb(img)
    w, h = img.size
    scale = size / max(w, h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.Resampling.BICUBIC, reducing_gap=3.0)
    colour = (255, 255, 255) if fill == "white" else _edge_colour(img)
    canvas = Image.new("RGB", (size, size), colour)
    canvas.paste(img, ((size - new_w) // 2, (size - new_h) // 2))
    return canvas


def to_array(img: Image.Image, size: int, *, fill: PadFill = "edge") -> NDArray[np.float32]:
    """CHW float32 network input: aspect-preserving resize, square padding, ImageNet normalisation."""
    square = pad_to_square(img, size, fill)
    arr = np.asarray(square, dtype=np.float32) / 255.0
    arr = (arr - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32)
