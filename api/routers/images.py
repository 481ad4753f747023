"""``POST /v1/images``: a shopper's photo, checked by content, for "find me something like this"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from assistant.errors import InvalidRequest
from assistant.images import IMAGE_ID_PATTERN

router = APIRouter(prefix="/v1/images", tags=["images"], responses=ERROR_RESPONSES)

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
ImageIdPath = Annotated[str, PathParam(pattern=IMAGE_ID_PATTERN, description="image id")]


class ImageCreated(BaseModel):
    image_id: str
    format: str
    width: int
    height: int
    bytes: int


@router.post("", status_code=201, operation_id="upload_image", response_model=ImageCreated)
async def upload_image(
    runtime: RuntimeDep,
    file: Annotated[
        UploadFile, File(description="a JPEG, PNG or WebP photo, at most 8 MB and 40 megapixels")
    ],
) -> ImageCreated:
    """Store a photo for a chat turn's ``image_id``; the type is read from its bytes, not its name."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    await file.close()
    if len(data) > MAX_UPLOAD_BYTES:
        err = InvalidRequest("the photo is larger than 8 MB; send a smaller one", code="too_large")
        err.status_code = 413
        raise err
    image_id, info = await run_in_threadpool(runtime.uploads.save, data)
    return ImageCreated(image_id=image_id, **info)


@router.get(
    "/{image_id}",
    operation_id="get_image",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def get_image(runtime: RuntimeDep, image_id: ImageIdPath) -> Any:
    path = runtime.uploads.path(image_id)
    return FileResponse(path, media_type=f"image/{path.suffix.lstrip('.')}")
