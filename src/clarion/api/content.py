"""Routes for /v1/assets and /v1/templates: the asset library and previews for a contact."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.audiences.pii import ROLES
from clarion.auth.contracts import ApiKey
from clarion.content.assets import MAX_IMAGE
from clarion.content.service import ContentService
from clarion.core.errors import FieldProblem, InvalidInput, TooLarge
from clarion.instance import Instance

router = APIRouter(tags=["content"])
ROLE_HEADER = "X-Clarion-Role"


class TextAsset(BaseModel):
    """A template (mjml, html) or snippet to store as the asset's draft."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(max_length=120, description="e.g. spring-newsletter")
    kind: Literal["mjml", "html", "snippet"]
    subject: str | None = Field(
        default=None, max_length=2_000, description="Templates only; a template itself."
    )
    body: str = Field(max_length=500_000, description="MJML or HTML with {{ … }} personalisation")


class Publish(BaseModel):
    """Which version to publish (the draft when left out)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1)


class Tags(BaseModel):
    """Tags to add and to remove."""

    model_config = ConfigDict(extra="forbid")

    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


class PreviewRequest(BaseModel):
    """Whom to preview the template for, and how."""

    model_config = ConfigDict(extra="forbid")

    contact: str = Field(max_length=254, description="A contact id (ct_…) or email address.")
    version: int | None = Field(default=None, ge=1, description="Default: the latest version.")
    role: Literal["admin", "marketer", "analyst", "viewer"] | None = Field(
        default=None,
        description=f"Mask the contact's fields as this role sees them ({ROLE_HEADER}).",
    )


def _library(request: Request, instance: Instance) -> ContentService:
    """One ContentService per app, so compiled published versions are reused across requests."""
    library: ContentService | None = getattr(request.app.state, "content", None)
    if library is None:
        library = ContentService(instance.store, clock=instance.clock, ids=instance.ids)
        request.app.state.content = library
    return library


def _actor(key: ApiKey) -> str:
    return f"api:{key.id}"


@router.post("/v1/assets", status_code=201)
async def add_text_asset(
    body: TextAsset, request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Store a template or snippet as its asset's draft (checked first: syntax errors name
    the field and line). A published version never changes; the next add starts a new one."""
    library = _library(request, instance)
    version = await run_in_threadpool(
        library.add,
        key.workspace_id,
        body.key,
        body.kind,
        actor=_actor(key),
        body=body.body,
        subject=body.subject,
    )
    return version.as_dict()


@router.put(
    "/v1/assets/{asset_key}/image",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_image(
    asset_key: str, request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Store an image (the raw bytes: PNG, JPEG, GIF or WebP, at most 1 MiB) as a draft."""
    data = await request.body()
    if len(data) > MAX_IMAGE:
        raise TooLarge(f"image is {len(data):,} bytes; the limit is {MAX_IMAGE:,}")
    library = _library(request, instance)
    version = await run_in_threadpool(
        library.add, key.workspace_id, asset_key, "image", actor=_actor(key), data=data
    )
    return version.as_dict()


@router.get("/v1/assets")
async def list_assets(
    request: Request,
    instance: InstanceDep,
    key: SecretKeyDep,
    kind: Annotated[Literal["mjml", "html", "snippet", "image"] | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The workspace's assets by key, with their tags and versions (without bodies)."""
    library = _library(request, instance)
    found = await run_in_threadpool(library.assets, key.workspace_id, kind=kind, tag=tag)
    return {"assets": [a.as_dict() for a in found]}


@router.get("/v1/assets/{asset_key}")
async def show_asset(
    asset_key: str, request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """One asset with its versions, and the latest version's subject and body."""
    library = _library(request, instance)
    asset = await run_in_threadpool(library.asset, key.workspace_id, asset_key)
    return {**asset.as_dict(), "latest": asset.latest.as_dict()}


@router.get("/v1/assets/{asset_key}/versions/{version}")
async def show_version(
    asset_key: str, version: int, request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """One version with its subject and body."""
    library = _library(request, instance)
    found = await run_in_threadpool(library.version, key.workspace_id, asset_key, version)
    return found.as_dict()


@router.get("/v1/assets/{asset_key}/image", response_class=Response)
async def get_image(
    asset_key: str,
    request: Request,
    instance: InstanceDep,
    key: SecretKeyDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """An image's bytes (the latest version unless ``version`` is given)."""
    library = _library(request, instance)
    data, content_type = await run_in_threadpool(
        library.image, key.workspace_id, asset_key, version
    )
    return Response(data, media_type=content_type, headers={"X-Content-Type-Options": "nosniff"})


@router.post("/v1/assets/{asset_key}/publish")
async def publish_asset(
    asset_key: str, body: Publish, request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Publish the draft: it never changes again; a template pins its snippets' versions."""
    library = _library(request, instance)
    version = await run_in_threadpool(
        library.publish, key.workspace_id, asset_key, actor=_actor(key), version=body.version
    )
    return version.as_dict()


@router.post("/v1/assets/{asset_key}/tags")
async def tag_asset(
    asset_key: str, body: Tags, request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Add and remove tags."""
    library = _library(request, instance)
    asset = await run_in_threadpool(
        library.tag, key.workspace_id, asset_key, add=body.add, remove=body.remove
    )
    return asset.as_dict()


@router.post("/v1/templates/{template_key}/preview")
async def preview_template(
    template_key: str,
    body: PreviewRequest,
    *,
    request: Request,
    instance: InstanceDep,
    key: SecretKeyDep,
    role_header: Annotated[str | None, Header(alias=ROLE_HEADER)] = None,
) -> dict[str, Any]:
    """The email one contact would get: subject, HTML and text, rendered strictly (a misspelt
    name is an error naming it) with the contact's fields masked for the role (default
    admin: a secret key's)."""
    role = body.role or role_header or "admin"
    if role not in ROLES:
        problem = f"unknown role {role[:40]!r}; roles: {', '.join(ROLES)}"
        raise InvalidInput(problem, [FieldProblem("role", problem)])
    library = _library(request, instance)
    return await run_in_threadpool(
        library.preview,
        key.workspace_id,
        template_key,
        contact_ref=body.contact,
        role=role,
        version=body.version,
    )
