"""`GET /t/clarion.js`: the snippet's type, caching and revalidation, and what it must not hold."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_snippet_is_javascript_browsers_may_cache(client: TestClient) -> None:
    response = client.get("/t/clarion.js", headers={"Authorization": ""})  # pages send no key
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["etag"].startswith('"')
    body = response.text
    assert "sendBeacon" in body
    assert "keepalive" in body  # the fetch fallback where sendBeacon is missing or refuses
    assert "eval(" not in body
    assert "new Function" not in body


def test_an_unchanged_snippet_revalidates_without_a_body(client: TestClient) -> None:
    etag = client.get("/t/clarion.js").headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get("/t/clarion.js", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
    changed = client.get("/t/clarion.js", headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200
    assert changed.content


def test_web_pages_on_other_origins_may_load_it(client: TestClient) -> None:
    response = client.get("/t/clarion.js", headers={"Origin": "https://shop.example"})
    assert response.headers["access-control-allow-origin"] == "*"
