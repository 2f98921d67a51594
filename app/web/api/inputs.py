"""The participant's kit: a track's public inputs, and each of their images."""

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.formats.kit import image_media_type
from app.services.kit import kit_image, track_kit
from app.web.api.schemas.errors import PUBLIC_READ
from app.web.deps import SessionDep, SettingsDep, StoreDep
from app.web.views.common import parse_track

router = APIRouter(prefix="/api/v1", tags=["inputs"], responses=PUBLIC_READ)

KIT_VERSION_HEADER = "X-Kit-Version"


@router.get(
    "/tracks/{track}/inputs",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
    summary="A track's inputs as a zip: inputs.jsonl, images, a prediction template, manifest",
)
async def get_track_inputs(
    session: SessionDep, settings: SettingsDep, store: StoreDep, track: str
) -> FileResponse:
    """Public inputs only (PUBLIC_INPUT_FIELDS); the kit's version is the current gold
    version's, also sent as the X-Kit-Version header."""
    kit = await track_kit(session, settings, store, parse_track(track))
    return FileResponse(
        kit.path,
        media_type="application/zip",
        filename=kit.filename,
        headers={KIT_VERSION_HEADER: kit.version},
    )


@router.get(
    "/tracks/{track}/images/{name}",
    response_class=FileResponse,
    summary="One image of a track's inputs, by the name its inputs.jsonl gives",
)
async def get_track_image(
    session: SessionDep, settings: SettingsDep, store: StoreDep, track: str, name: str
) -> FileResponse:
    kit = await track_kit(session, settings, store, parse_track(track))
    return FileResponse(kit_image(kit, name), media_type=image_media_type(name))
