"""The content facade: add, publish, tag, list and show assets; renderers to send and preview."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from clarion.audiences import service as contacts
from clarion.content.assets import (
    MAX_TAGS,
    TEMPLATE_KINDS,
    Asset,
    AssetKind,
    AssetVersion,
    check_key,
    check_kind,
    check_tags,
    sniff_image,
)
from clarion.content.contracts import EmailRenderer, RenderedEmail, RenderFailed
from clarion.content.render import INCLUDE, check_snippet, compile_parts
from clarion.content.tables import content_assets, content_tags, content_versions
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from clarion.core.ids import IdSource
from clarion.stores.app import AppStore

CACHE_SIZE: Final = 64  # compiled published versions kept per service
_LISTING: Final = [c for c in content_versions.c if c.name != "data"]


class ContentService:
    """The asset library of every workspace in one app store, and the renderers built on it."""

    def __init__(self, store: AppStore, *, clock: Clock, ids: IdSource) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._cache: OrderedDict[tuple[str, str, int, str | None], EmailRenderer] = OrderedDict()
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------

    def add(
        self,
        workspace_id: str,
        key: str,
        kind: str,
        *,
        actor: str,
        body: str | None = None,
        subject: str | None = None,
        data: bytes | None = None,
    ) -> AssetVersion:
        """Store new content for ``key``: it becomes the draft (a new version after a publish,
        the same draft replaced otherwise; identical content changes nothing).

        Templates (mjml, html) need ``subject`` and ``body`` and are compiled to check them;
        snippets need ``body``; images need ``data`` (PNG, JPEG, GIF or WebP, at most 2 MiB).
        """
        check_key(key)
        checked = check_kind(kind)
        columns = self._content(workspace_id, checked, body=body, subject=subject, data=data)
        now = self._clock.now()
        for attempt in (1, 2):
            try:
                with self._store.transaction() as conn:
                    asset = _asset_row(conn, workspace_id, key, required=False)
                    if asset is None:
                        asset_id = self._ids.new("as")
                        conn.execute(
                            insert(content_assets).values(
                                id=asset_id,
                                workspace_id=workspace_id,
                                key=key,
                                kind=checked,
                                created_at=now,
                                updated_at=now,
                            )
                        )
                        latest = None
                    else:
                        if asset.kind != checked:
                            raise Conflict(
                                f"asset {key!r} is a {asset.kind}, not a {checked}",
                                {"key": key, "kind": asset.kind},
                            )
                        asset_id = asset.id
                        latest = _latest_row(conn, asset_id)
                    if latest is not None and _same(latest, columns):
                        return _version(latest, key, checked)
                    if latest is not None and latest.state == "draft":
                        conn.execute(
                            update(content_versions)
                            .where(
                                content_versions.c.id == latest.id,
                                content_versions.c.state == "draft",
                            )
                            .values(**columns, created_at=now, created_by=actor)
                        )
                        version_id = latest.id
                    else:
                        version_id = self._ids.new("av")
                        conn.execute(
                            insert(content_versions).values(
                                id=version_id,
                                asset_id=asset_id,
                                version=(latest.version + 1) if latest is not None else 1,
                                state="draft",
                                includes={},
                                created_at=now,
                                created_by=actor,
                                **columns,
                            )
                        )
                    conn.execute(
                        update(content_assets)
                        .where(content_assets.c.id == asset_id)
                        .values(updated_at=now)
                    )
                    row = conn.execute(
                        select(*_LISTING, content_versions.c.data).where(
                            content_versions.c.id == version_id
                        )
                    ).one()
                    return _version(row, key, checked)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def publish(
        self, workspace_id: str, key: str, *, actor: str, version: int | None = None
    ) -> AssetVersion:
        """Publish the draft (or ``version``): from now on it never changes. A template pins
        the published versions of the snippets it includes. Publishing twice changes nothing."""
        now = self._clock.now()
        with self._store.transaction() as conn:
            asset = _asset_row(conn, workspace_id, key)
            row = _version_row(conn, asset, version)
            if row.state == "published":
                return _version(row, key, asset.kind)
            includes: dict[str, int] = {}
            if asset.kind in TEMPLATE_KINDS:
                includes = _published_includes(conn, workspace_id, row.body or "")
                snippets = _snippet_bodies(conn, workspace_id, includes)
                compile_parts(row.subject or "", row.body or "", asset.kind, snippets=snippets)
            conn.execute(
                update(content_versions)
                .where(content_versions.c.id == row.id, content_versions.c.state == "draft")
                .values(state="published", published_at=now, published_by=actor, includes=includes)
            )
            conn.execute(
                update(content_assets).where(content_assets.c.id == asset.id).values(updated_at=now)
            )
            published = conn.execute(select(*_LISTING).where(content_versions.c.id == row.id)).one()
            return _version(published, key, asset.kind)

    def tag(
        self,
        workspace_id: str,
        key: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> Asset:
        """Add and remove tags of an asset (tags are labels for finding things; unversioned)."""
        adding = check_tags(list(add))
        removing = check_tags(list(remove))
        with self._store.transaction() as conn:
            asset = _asset_row(conn, workspace_id, key)
            current = set(_tags_of(conn, [asset.id]).get(asset.id, ()))
            wanted = (current | set(adding)) - set(removing)
            if len(wanted) > MAX_TAGS:
                problem = f"at most {MAX_TAGS} tags per asset, not {len(wanted)}"
                raise InvalidInput(problem, [FieldProblem("tags", problem)])
            if removing:
                conn.execute(
                    delete(content_tags).where(
                        content_tags.c.asset_id == asset.id, content_tags.c.tag.in_(removing)
                    )
                )
            new = [t for t in adding if t not in current and t not in removing]
            if new:
                conn.execute(insert(content_tags), [{"asset_id": asset.id, "tag": t} for t in new])
        return self.asset(workspace_id, key)

    # -- reading ---------------------------------------------------------------------------

    def assets(
        self, workspace_id: str, *, kind: str | None = None, tag: str | None = None
    ) -> list[Asset]:
        """The workspace's assets by key, optionally of one kind or carrying one tag."""
        query = select(content_assets).where(content_assets.c.workspace_id == workspace_id)
        if kind is not None:
            query = query.where(content_assets.c.kind == check_kind(kind))
        if tag is not None:
            check_tags([tag])
            query = query.where(
                content_assets.c.id.in_(
                    select(content_tags.c.asset_id).where(content_tags.c.tag == tag)
                )
            )
        with self._store.reading() as conn:
            rows = conn.execute(query.order_by(content_assets.c.key)).all()
            return _assets(conn, rows)

    def asset(self, workspace_id: str, key: str) -> Asset:
        """One asset with its tags and all its versions; NotFound otherwise."""
        with self._store.reading() as conn:
            return _assets(conn, [_asset_row(conn, workspace_id, key)])[0]

    def version(self, workspace_id: str, key: str, version: int | None = None) -> AssetVersion:
        """One version with its content (the latest when ``version`` is None)."""
        with self._store.reading() as conn:
            asset = _asset_row(conn, workspace_id, key)
            return _version(_version_row(conn, asset, version), key, asset.kind)

    def image(self, workspace_id: str, key: str, version: int | None = None) -> tuple[bytes, str]:
        """An image's bytes and content type (the latest version when ``version`` is None)."""
        with self._store.reading() as conn:
            asset = _asset_row(conn, workspace_id, key)
            if asset.kind != "image":
                raise Conflict(f"asset {key!r} is a {asset.kind}, not an image", {"key": key})
            row = _version_row(conn, asset, version)
            return bytes(row.data), row.content_type

    # -- rendering -------------------------------------------------------------------------

    def email_renderer(
        self,
        workspace_id: str,
        template_key: str,
        version: int | None = None,
        *,
        subject: str | None = None,
    ) -> EmailRenderer:
        """The renderer the sender uses: a published version (the newest when ``version`` is
        None), undefined variables rendered empty; compiled once and cached.

        ``subject`` replaces the version's subject (an experiment variant's subject line); it
        is compiled by the same sandbox, and InvalidInput names ``subject`` when it is broken.
        """
        with self._store.reading() as conn:
            asset = _template_row(conn, workspace_id, template_key)
            row = _version_row(conn, asset, version, published=True)
            cache_key = (workspace_id, template_key, row.version, subject)
            with self._lock:
                cached = self._cache.get(cache_key)
                if cached is not None:
                    self._cache.move_to_end(cache_key)
                    return cached
            snippets = _snippet_bodies(conn, workspace_id, dict(row.includes))
        chosen = (row.subject or "") if subject is None else subject
        renderer = compile_parts(chosen, row.body or "", asset.kind, snippets=snippets)
        with self._lock:
            self._cache[cache_key] = renderer
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return renderer

    def preview_renderer(
        self, workspace_id: str, template_key: str, version: int | None = None
    ) -> EmailRenderer:
        """A strict renderer of any version, drafts included (the latest when None); a draft
        includes the latest version of each snippet."""
        with self._store.reading() as conn:
            asset = _template_row(conn, workspace_id, template_key)
            row = _version_row(conn, asset, version)
            if row.state == "published":
                snippets = _snippet_bodies(conn, workspace_id, dict(row.includes))
            else:
                snippets = _latest_snippets(conn, workspace_id, row.body or "")
        return compile_parts(
            row.subject or "", row.body or "", asset.kind, snippets=snippets, strict=True
        )

    def preview(
        self,
        workspace_id: str,
        template_key: str,
        *,
        contact_ref: str,
        role: str,
        version: int | None = None,
    ) -> dict[str, Any]:
        """The email ``contact_ref`` (a contact id or email) would get, rendered with the
        contact's fields as ``role`` may see them; JSON-ready, with the masked fields named.
        InvalidInput (path ``template``) when it fails for this contact, e.g. on a misspelt
        name: preview is strict where sending is lenient."""
        contact = _find_contact(self._store, workspace_id, contact_ref)
        view = contacts.mask_contact(contact, role)
        fields = {k: v for k, v in view.items() if k not in _NOT_FIELDS}
        renderer = self.preview_renderer(workspace_id, template_key, version)
        chosen = self.version(workspace_id, template_key, version)
        try:
            email: RenderedEmail = renderer.render(fields)
        except RenderFailed as exc:
            problem = f"fails for contact {contact.id}: {exc}"
            raise InvalidInput(
                f"template {template_key!r} {problem}", [FieldProblem("template", problem)]
            ) from None
        return {
            "template": template_key,
            "version": chosen.version,
            "state": chosen.state,
            "contact_id": contact.id,
            "role": view["role"],
            "masked": view["masked"],
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
        }

    def _content(
        self,
        workspace_id: str,
        kind: AssetKind,
        *,
        body: str | None,
        subject: str | None,
        data: bytes | None,
    ) -> dict[str, Any]:
        """The version columns for new content, after checking it for its kind."""
        if kind == "image":
            if data is None or body is not None or subject is not None:
                problem = "an image takes data (bytes), not a body or subject"
                raise InvalidInput(problem, [FieldProblem("data", problem)])
            return {
                "subject": None,
                "body": None,
                "data": data,
                "content_type": sniff_image(data),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        if body is None or data is not None:
            problem = f"a {kind} takes a body (text), not data"
            raise InvalidInput(problem, [FieldProblem("body", problem)])
        if kind == "snippet":
            if subject is not None:
                problem = "a snippet has no subject"
                raise InvalidInput(problem, [FieldProblem("subject", problem)])
            problems = check_snippet("", body)
            if problems:
                raise InvalidInput(f"invalid snippet: {problems[0].problem}", problems)
        else:
            with self._store.reading() as conn:
                snippets = _latest_snippets(conn, workspace_id, body)
            compile_parts(subject or "", body, kind, snippets=snippets, strict=True)
        encoded = body.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256((subject or "").encode() + b"\0" + encoded).hexdigest()
        return {
            "subject": subject,
            "body": body,
            "data": None,
            "content_type": "text/mjml" if kind == "mjml" else "text/html",
            "size": len(encoded),
            "sha256": digest,
        }


_NOT_FIELDS: Final = frozenset({"masked", "role", "created_at", "updated_at", "erased_at"})


def _find_contact(store: AppStore, workspace_id: str, ref: str) -> Any:
    if "@" in ref:
        found = contacts.find_contact(store, workspace_id, email=ref)
        if found is None:
            raise NotFound("contact", ref)
        return found
    return contacts.get_contact(store, workspace_id, ref)


def _asset_row(conn: Connection, workspace_id: str, key: str, *, required: bool = True) -> Any:
    row = conn.execute(
        select(content_assets).where(
            content_assets.c.workspace_id == workspace_id, content_assets.c.key == key
        )
    ).first()
    if row is None and required:
        raise NotFound("asset", key)
    return row


def _template_row(conn: Connection, workspace_id: str, key: str) -> Any:
    asset = _asset_row(conn, workspace_id, key)
    if asset.kind not in TEMPLATE_KINDS:
        raise Conflict(f"asset {key!r} is a {asset.kind}, not an email template", {"key": key})
    return asset


def _latest_row(conn: Connection, asset_id: str) -> Any:
    return conn.execute(
        select(*_LISTING)
        .where(content_versions.c.asset_id == asset_id)
        .order_by(content_versions.c.version.desc())
        .limit(1)
    ).first()


def _version_row(
    conn: Connection, asset: Any, version: int | None, *, published: bool = False
) -> Any:
    query = select(*_LISTING, content_versions.c.data).where(
        content_versions.c.asset_id == asset.id
    )
    if published:
        query = query.where(content_versions.c.state == "published")
    if version is not None:
        query = query.where(content_versions.c.version == version)
    row = conn.execute(query.order_by(content_versions.c.version.desc()).limit(1)).first()
    if row is None:
        what = "published version" if published else "version"
        raise NotFound(what, f"{asset.key}@{version}" if version is not None else asset.key)
    return row


def _same(row: Any, columns: Mapping[str, Any]) -> bool:
    return bool(row.sha256 == columns["sha256"] and row.subject == columns["subject"])


def _version(row: Any, key: str, kind: AssetKind) -> AssetVersion:
    return AssetVersion(
        asset_id=row.asset_id,
        key=key,
        kind=kind,
        version=row.version,
        state=row.state,
        subject=row.subject,
        body=row.body,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        includes=dict(row.includes),
        created_at=row.created_at,
        created_by=row.created_by,
        published_at=row.published_at,
        published_by=row.published_by,
    )


def _tags_of(conn: Connection, asset_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not asset_ids:
        return out
    for row in conn.execute(
        select(content_tags)
        .where(content_tags.c.asset_id.in_(asset_ids))
        .order_by(content_tags.c.tag)
    ):
        out.setdefault(row.asset_id, []).append(row.tag)
    return out


def _assets(conn: Connection, rows: Sequence[Any]) -> list[Asset]:
    ids = [r.id for r in rows]
    tags = _tags_of(conn, ids)
    versions: dict[str, list[Any]] = {}
    if ids:
        for v in conn.execute(
            select(*_LISTING)
            .where(content_versions.c.asset_id.in_(ids))
            .order_by(content_versions.c.version)
        ):
            versions.setdefault(v.asset_id, []).append(v)
    return [
        Asset(
            id=r.id,
            workspace_id=r.workspace_id,
            key=r.key,
            kind=r.kind,
            tags=tuple(tags.get(r.id, ())),
            versions=tuple(_version(v, r.key, r.kind) for v in versions.get(r.id, [])),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def _included_keys(body: str) -> list[str]:
    return list(dict.fromkeys(m.group(2) for m in INCLUDE.finditer(body)))


def _snippet_rows(conn: Connection, workspace_id: str, keys: list[str]) -> dict[str, Any]:
    """For each key, the snippet asset row (unknown keys and other kinds are left out)."""
    if not keys:
        return {}
    rows = conn.execute(
        select(content_assets).where(
            content_assets.c.workspace_id == workspace_id,
            content_assets.c.key.in_(keys),
            content_assets.c.kind == "snippet",
        )
    ).all()
    return {r.key: r for r in rows}


def _latest_snippets(conn: Connection, workspace_id: str, body: str) -> dict[str, str]:
    """The latest version (draft or published) of each snippet ``body`` includes."""
    out: dict[str, str] = {}
    for key, asset in _snippet_rows(conn, workspace_id, _included_keys(body)).items():
        latest = _latest_row(conn, asset.id)
        if latest is not None:
            out[key] = latest.body or ""
    return out


def _published_includes(conn: Connection, workspace_id: str, body: str) -> dict[str, int]:
    """The newest published version of each snippet ``body`` includes; InvalidInput naming
    a snippet that is unknown or has never been published."""
    keys = _included_keys(body)
    assets = _snippet_rows(conn, workspace_id, keys)
    pins: dict[str, int] = {}
    problems: list[FieldProblem] = []
    for key in keys:
        asset = assets.get(key)
        row = None
        if asset is not None:
            row = conn.execute(
                select(content_versions.c.version)
                .where(
                    content_versions.c.asset_id == asset.id,
                    content_versions.c.state == "published",
                )
                .order_by(content_versions.c.version.desc())
                .limit(1)
            ).first()
        if row is None:
            problems.append(
                FieldProblem("body", f"snippet {key!r} has no published version; publish it first")
            )
        else:
            pins[key] = row.version
    if problems:
        raise InvalidInput(f"cannot publish: {problems[0].problem}", problems)
    return pins


def _snippet_bodies(conn: Connection, workspace_id: str, pins: Mapping[str, int]) -> dict[str, str]:
    """The bodies of the pinned snippet versions."""
    out: dict[str, str] = {}
    assets = _snippet_rows(conn, workspace_id, list(pins))
    for key, version in pins.items():
        asset = assets.get(key)
        if asset is None:
            raise NotFound("snippet", key)
        row = conn.execute(
            select(content_versions.c.body).where(
                content_versions.c.asset_id == asset.id, content_versions.c.version == version
            )
        ).first()
        if row is None:
            raise NotFound("snippet version", f"{key}@{version}")
        out[key] = row.body or ""
    return out
