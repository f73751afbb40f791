"""The asset library: versions (immutable once published), tags, images, snippets, renderers;
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from clarion.audiences import service as contacts
from clarion.auth.contracts import Workspace
from clarion.content.service import ContentService
from clarion.content.tables import content_versions
from clarion.core.clock import SimulatedClock
from clarion.core.errors import Conflict, InvalidInput, NotFound
from clarion.core.ids import SeededIds
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BODY = "<p>Hello {{ first_name | default('there') }}</p>"


@pytest.fixture
def library(store: AppStore, clock: SimulatedClock, ids: SeededIds) -> ContentService:
    return ContentService(store, clock=clock, ids=ids)


@pytest.fixture
def events(clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open("duckdb://:memory:", clock=clock) as store:
        store.create_schema()
        yield store


def test_a_draft_is_replaced_until_published_then_a_new_version_starts(
    library: ContentService, workspace: Workspace
) -> None:
    ws = workspace.id
    first = library.add(ws, "welcome", "html", subject="Hi", body=BODY, actor="cli:ann")
    assert (first.version, first.state) == (1, "draft")
    again = library.add(ws, "welcome", "html", subject="Hi!", body=BODY, actor="cli:ann")
    assert (again.version, again.subject) == (1, "Hi!")

    published = library.publish(ws, "welcome", actor="cli:bob")
    assert (published.state, published.published_by) == ("published", "cli:bob")
    assert library.publish(ws, "welcome", actor="cli:eve").published_by == "cli:bob"

    same = library.add(ws, "welcome", "html", subject="Hi!", body=BODY, actor="cli:ann")
    assert (same.version, same.state) == (1, "published")  # identical content: nothing new
    second = library.add(ws, "welcome", "html", subject="Hello", body=BODY, actor="cli:ann")
    assert (second.version, second.state) == (2, "draft")
    assert library.version(ws, "welcome", 1).subject == "Hi!"  # v1 never changes

    asset = library.asset(ws, "welcome")
    assert [v.version for v in asset.versions] == [1, 2]
    assert asset.published is not None and asset.published.version == 1


def test_the_sender_gets_the_latest_published_version_compiled_once(
    library: ContentService, workspace: Workspace
) -> None:
    ws = workspace.id
    with pytest.raises(NotFound):
        library.email_renderer(ws, "welcome")
    library.add(ws, "welcome", "html", subject="v1 {{ first_name }}", body=BODY, actor="a")
    with pytest.raises(NotFound, match="published version"):
        library.email_renderer(ws, "welcome")
    library.publish(ws, "welcome", actor="a")
    library.add(ws, "welcome", "html", subject="v2 draft", body=BODY, actor="a")

    renderer = library.email_renderer(ws, "welcome")
    assert renderer.render({"first_name": "Jo"}).subject == "v1 Jo"
    assert library.email_renderer(ws, "welcome") is renderer  # cached
    assert library.email_renderer(ws, "welcome", 1) is renderer
    with pytest.raises(NotFound):
        library.email_renderer(ws, "welcome", 2)  # a draft is never sent
    # Sending is lenient: an unknown name renders empty instead of failing the recipient.
    assert renderer.render({}).text == "Hello there\n"


def test_a_published_template_pins_its_snippets(
    library: ContentService, workspace: Workspace
) -> None:
    ws = workspace.id
    library.add(ws, "footer", "snippet", body="<p>Footer one</p>", actor="a")
    body = '<p>Hi</p>{% include "footer" %}'
    library.add(ws, "news", "html", subject="News", body=body, actor="a")
    with pytest.raises(InvalidInput, match="snippet 'footer' has no published version"):
        library.publish(ws, "news", actor="a")
    library.publish(ws, "footer", actor="a")
    assert library.publish(ws, "news", actor="a").includes == {"footer": 1}

    library.add(ws, "footer", "snippet", body="<p>Footer two</p>", actor="a")
    library.publish(ws, "footer", actor="a")
    assert library.email_renderer(ws, "news").render({}).text == "Hi\n\nFooter one\n"
    preview = library.preview_renderer(ws, "news").render({})
    assert preview.text == "Hi\n\nFooter one\n"  # the published version shows what is sent


@pytest.mark.parametrize(
    ("key", "kind", "content", "path", "problem"),
    [
        ("Bad Key", "html", {"subject": "s", "body": "x"}, "key", "not a valid key"),
        ("k", "pdf", {"subject": "s", "body": "x"}, "kind", "unknown kind 'pdf'"),
        ("k", "html", {"subject": "s", "body": "<p>{{ x</p>"}, "body", "line 1:"),
        ("k", "html", {"body": "<p>x</p>"}, "subject", "is empty"),
        ("k", "snippet", {"body": "{% include 'a' %}"}, "body", "cannot include another"),
        ("k", "snippet", {"body": "x", "subject": "s"}, "subject", "a snippet has no subject"),
        ("k", "image", {"data": b"<svg onload=alert(1)>"}, "data", "SVG is not accepted"),
        ("k", "image", {"data": PNG + b"\x00" * 1024 * 1024}, "data", "the limit is"),
        ("k", "image", {"body": "x"}, "data", "an image takes data"),
        ("k", "html", {"subject": "s", "body": "<p>{% include 'nope' %}</p>"}, "body", "unknown"),
    ],
)
def test_bad_content_is_refused_naming_the_field_and_nothing_is_stored(
    library: ContentService,
    workspace: Workspace,
    key: str,
    kind: str,
    content: dict[str, object],
    path: str,
    problem: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        library.add(workspace.id, key, kind, actor="a", **content)  # type: ignore[arg-type]
    assert caught.value.problems[0].path == path
    assert problem in caught.value.problems[0].problem
    assert library.assets(workspace.id) == []


def test_images_are_stored_with_their_sniffed_type(
    library: ContentService, workspace: Workspace
) -> None:
    added = library.add(workspace.id, "logo", "image", data=PNG, actor="a")
    assert (added.content_type, added.size, added.body) == ("image/png", len(PNG), None)
    assert library.image(workspace.id, "logo") == (PNG, "image/png")
    with pytest.raises(Conflict, match="is a image, not a html"):
        library.add(workspace.id, "logo", "html", subject="s", body="x", actor="a")


def test_tags_find_assets(library: ContentService, workspace: Workspace) -> None:
    ws = workspace.id
    library.add(ws, "spring", "html", subject="s", body=BODY, actor="a")
    library.add(ws, "footer", "snippet", body="<p>f</p>", actor="a")
    library.tag(ws, "spring", add=["newsletter", "spring-2027"])
    tagged = library.tag(ws, "footer", add=["newsletter", "legal"], remove=["legal"])
    assert tagged.tags == ("newsletter",)
    assert [a.key for a in library.assets(ws, tag="newsletter")] == ["footer", "spring"]
    assert [a.key for a in library.assets(ws, tag="spring-2027")] == ["spring"]
    assert [a.key for a in library.assets(ws, kind="snippet")] == ["footer"]
    with pytest.raises(InvalidInput, match="not a valid tag"):
        library.tag(ws, "spring", add=["<script>"])


def test_published_versions_are_not_updated_by_the_library(
    library: ContentService, workspace: Workspace, store: AppStore
) -> None:
    library.add(workspace.id, "t", "html", subject="s", body=BODY, actor="a")
    library.publish(workspace.id, "t", actor="a")
    # The library's only update of a version row is guarded by state = 'draft'.
    with store.transaction() as conn:
        touched = conn.execute(
            update(content_versions)
            .where(content_versions.c.state == "draft")
            .values(subject="changed")
        ).rowcount
    assert touched == 0
    assert library.version(workspace.id, "t").subject == "s"


def test_preview_for_a_contact_by_email_or_id_masks_fields_by_role(
    library: ContentService,
    workspace: Workspace,
    store: AppStore,
    events: EventStore,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    stored = contacts.upsert_contacts(
        store,
        events,
        workspace.id,
        [{"email": "jane@example.com", "first_name": "Jane", "attributes": {"plan": "pro"}}],
        clock=clock,
        ids=ids,
        source="test",
    )
    contact_id = stored.stored[0][1]
    body = "<p>Hi {{ first_name | default('there') }} ({{ email }}), {{ attributes.plan }}</p>"
    library.add(workspace.id, "t", "html", subject="For {{ first_name }}", body=body, actor="a")

    admin = library.preview(workspace.id, "t", contact_ref="jane@example.com", role="admin")
    assert (admin["contact_id"], admin["state"], admin["version"]) == (contact_id, "draft", 1)
    assert admin["text"] == "Hi Jane (jane@example.com), pro\n"
    assert admin["masked"] == []

    analyst = library.preview(workspace.id, "t", contact_ref=contact_id, role="analyst")
    assert analyst["text"] == "Hi J. (j•••@example.com), pro\n"
    assert analyst["subject"] == "For J."
    viewer = library.preview(workspace.id, "t", contact_ref=contact_id, role="viewer")
    assert viewer["text"] == "Hi there (),\n"
    assert set(viewer["masked"]) >= {"email", "first_name", "attributes"}

    with pytest.raises(NotFound):
        library.preview(workspace.id, "t", contact_ref="nobody@example.com", role="admin")
    library.add(workspace.id, "t", "html", subject="s", body="<p>{{ frist_name }}</p>", actor="a")
    with pytest.raises(InvalidInput, match="'frist_name' is undefined") as caught:
        library.preview(workspace.id, "t", contact_ref=contact_id, role="admin")
    assert caught.value.problems[0].path == "template"
