"""/v1/assets and /v1/templates/{key}/preview over real HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ROLE = "X-Clarion-Role"
MJML = (
    "<mjml><mj-body><mj-section><mj-column>"
    "<mj-text>Hi {{ first_name | default('there') }}</mj-text>"
    '{% include "footer" %}'
    "</mj-column></mj-section></mj-body></mjml>"
)


def add(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/assets", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_add_publish_tag_list_and_preview_a_template(client: TestClient) -> None:
    add(client, key="footer", kind="snippet", body="<mj-text>Bye {{ email }}</mj-text>")
    assert client.post("/v1/assets/footer/publish", json={}).json()["state"] == "published"
    draft = add(client, key="news", kind="mjml", subject="News for {{ first_name }}", body=MJML)
    assert (draft["version"], draft["state"]) == (1, "draft")

    published = client.post("/v1/assets/news/publish", json={"version": 1}).json()
    assert published["includes"] == {"footer": 1}
    tagged = client.post("/v1/assets/news/tags", json={"add": ["newsletter"]}).json()
    assert tagged["tags"] == ["newsletter"]
    listed = client.get("/v1/assets", params={"tag": "newsletter"}).json()["assets"]
    assert [(a["key"], a["published_version"]) for a in listed] == [("news", 1)]
    shown = client.get("/v1/assets/news").json()
    assert shown["latest"]["body"] == MJML
    assert client.get("/v1/assets/news/versions/1").json()["subject"] == "News for {{ first_name }}"

    created = client.post(
        "/v1/contacts", json={"contacts": [{"email": "jane@example.com", "first_name": "Jane"}]}
    )
    assert created.status_code == 200, created.text
    preview = client.post("/v1/templates/news/preview", json={"contact": "jane@example.com"})
    assert preview.status_code == 200, preview.text
    email = preview.json()
    assert email["subject"] == "News for Jane"
    assert email["text"] == "Hi Jane\nBye jane@example.com\n"
    assert "<!doctype html>" in email["html"].lower()

    masked = client.post(
        "/v1/templates/news/preview",
        json={"contact": "jane@example.com"},
        headers={"X-Clarion-Role": "analyst"},
    ).json()
    assert masked["subject"] == "News for J."
    assert masked["masked"] == ["email", "first_name"]


def test_errors_name_the_field_and_line(client: TestClient) -> None:
    hostile = {"key": "t", "kind": "html", "subject": "s", "body": "<p>\n{{ x.__class__ }}"}
    bad = client.post("/v1/assets", json=hostile)
    assert bad.status_code == 422
    problem = bad.json()["error"]["details"]["problems"][0]
    assert problem["path"] == "body"
    assert problem["problem"].startswith("line 2: attribute '__class__'")

    assert client.get("/v1/assets/nope").status_code == 404
    add(client, key="t", kind="html", subject="s", body="<p>{{ frist_name }}</p>")
    client.post("/v1/contacts", json={"contacts": [{"email": "a@example.com"}]})
    failed = client.post("/v1/templates/t/preview", json={"contact": "a@example.com"})
    assert failed.status_code == 422
    assert "'frist_name' is undefined" in failed.json()["error"]["message"]
    wrong_role = client.post(
        "/v1/templates/t/preview", json={"contact": "a@example.com"}, headers={ROLE: "x"}
    )
    assert wrong_role.status_code == 422
    extra = client.post("/v1/assets", json={"key": "k", "kind": "html", "body": "x", "evil": 1})
    assert extra.status_code == 422


def test_images_go_in_and_out_as_raw_bytes(client: TestClient) -> None:
    put = client.put("/v1/assets/logo/image", content=PNG, headers={"Content-Type": "image/png"})
    assert put.status_code == 201, put.text
    assert put.json()["content_type"] == "image/png"
    got = client.get("/v1/assets/logo/image")
    assert (got.content, got.headers["content-type"]) == (PNG, "image/png")

    script = client.put("/v1/assets/evil/image", content=b"<svg><script>alert(1)</script></svg>")
    assert script.status_code == 422
    assert script.json()["error"]["details"]["problems"][0]["path"] == "data"
    huge = client.put("/v1/assets/big/image", content=PNG + b"\x00" * 1_048_576)
    assert huge.status_code == 413


def test_the_library_needs_a_secret_key(client: TestClient) -> None:
    del client.headers["Authorization"]
    assert client.get("/v1/assets").status_code == 401
    assert client.post("/v1/templates/t/preview", json={"contact": "x"}).status_code == 401


def test_hostile_keys_and_references_are_refused_or_not_found(client: TestClient) -> None:
    sql = client.post("/v1/assets", json={"key": "x'; DROP TABLE content_assets; --",
                                          "kind": "snippet", "body": "<p>x</p>"})  # fmt: skip
    assert sql.status_code == 422
    assert sql.json()["error"]["details"]["problems"][0]["path"] == "key"
    assert client.get("/v1/assets/x'%3B%20DROP%20TABLE%20content_assets").status_code == 404
    add(client, key="t", kind="html", subject="s", body="<p>x</p>")
    missing = client.post("/v1/templates/t/preview", json={"contact": "' OR 1=1 --"})
    assert missing.status_code == 404
    assert client.get("/v1/assets").json()["assets"][0]["key"] == "t"
