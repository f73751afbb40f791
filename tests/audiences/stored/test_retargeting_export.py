"""Retargeting exports: hashed customer-match files, ads consent enforced, exclusions counted."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clarion.audiences import service as audiences
from clarion.audiences.retargeting import export_segment, google_phone, meta_phone, write_export
from clarion.audiences.segments.store import save_segment
from clarion.audiences.segments.stored import segment_input
from clarion.auth.contracts import Workspace
from clarion.core.errors import InvalidInput
from clarion.instance import Instance

ADS = "ads_personalisation:ads"
PEOPLE = [
    {"email": "Ana@Example.com", "phone": "+33 6 12 34 56 78", "consents": [ADS]},
    {"email": "bo@example.com", "consents": [ADS]},  # suppressed below
    {"email": "cy@example.com", "consents": ["marketing:email"]},  # no ads consent
    {"external_id": "crm-4", "phone": "+4915112345678", "consents": [ADS]},  # phone only
    {"email": "dee@example.com", "consents": [ADS]},  # withdraws below
    {"email": "eve@example.com", "consents": [ADS]},  # erased below
]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def segment(instance: Instance, workspace: Workspace) -> str:
    events = instance.events
    assert events is not None
    kw = {"clock": instance.clock}
    result = audiences.upsert_contacts(
        instance.store, events, workspace.id, PEOPLE, ids=instance.ids, source="test", **kw
    )
    assert not result.rejected, result.rejected
    ids = [contact_id for _, contact_id, _ in result.stored]
    audiences.suppress(
        instance.store,
        events,
        workspace.id,
        reason="manual",
        source="test",
        contact_id=ids[1],
        **kw,
    )
    audiences.record_consent(
        instance.store,
        events,
        workspace.id,
        ids[4],
        pair=ADS,
        status="withdrawn",
        source="test",
        proof_kind="api",
        **kw,
    )
    audiences.erase_contact(
        instance.store, events, workspace.id, ids[5], clock=instance.clock, source="request"
    )
    save_segment(
        instance.store,
        workspace.id,
        segment_input(
            {"key": "everyone", "rule": {"not": {"field": "country", "op": "=", "value": "ZZ"}}}
        ),
        ids=instance.ids,
        **kw,
    )
    return "everyone"


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_phone_normalisation_per_platform() -> None:
    assert google_phone("+33 6 12-34-56-78") == "+33612345678"
    assert meta_phone("+33 (6) 12 34 56 78") == "33612345678"
    assert google_phone("06 12 34 56 78") is None  # no country code: cannot match


@pytest.mark.parametrize(
    ("platform", "header", "phones"),
    [
        ("google", ["Email", "Phone"], {"+33612345678", "+4915112345678"}),
        ("meta", ["email", "phone"], {"33612345678", "4915112345678"}),
        (
            "linkedin",
            [
                "email",
                "firstname",
                "lastname",
                "jobtitle",
                "employeecompany",
                "country",
                "googleaid",
            ],
            set(),
        ),
    ],
)
def test_each_platform_gets_its_headers_and_hashes(
    instance: Instance,
    workspace: Workspace,
    segment: str,
    platform: str,
    header: list[str],
    phones: set[str],
) -> None:
    assert instance.events is not None
    text, report = export_segment(
        instance.store, instance.events, workspace.id, segment, platform, now=instance.clock.now()
    )
    assert text.splitlines()[0].split(",") == header
    written = rows(text)
    email, phone = header[0], header[1] if phones else None
    assert {r[email] for r in written if r[email]} == {sha("ana@example.com")}
    if phone:
        assert {r[phone] for r in written if r[phone]} == {sha(p) for p in phones}
    assert "ana@example.com" not in text.lower()
    expected_out = {"suppressed": 1, "no_consent": 1, "consent_withdrawn": 1}
    if platform == "linkedin":
        expected_out["no_identifier"] = 1  # phone only: LinkedIn matches on email
    assert report.excluded == expected_out
    assert report.members == 5  # the erased contact is no member at all
    assert report.exported == len(written) == (1 if platform == "linkedin" else 2)


def test_an_unknown_platform_is_refused(
    instance: Instance, workspace: Workspace, segment: str
) -> None:
    assert instance.events is not None
    with pytest.raises(InvalidInput, match="google, meta, linkedin"):
        export_segment(
            instance.store,
            instance.events,
            workspace.id,
            segment,
            "myspace",
            now=instance.clock.now(),
        )


def test_the_file_is_written_whole_and_private(tmp_path: Path) -> None:
    out = tmp_path / "out" / "audience.csv"
    write_export("email\nabc\n", out)
    assert out.read_text() == "email\nabc\n"
    assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["audience.csv"]


def test_the_api_exports_a_file_with_counts(client: TestClient, segment: str) -> None:
    response = client.post(f"/v1/segments/{segment}/export", params={"format": "meta"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-clarion-exported"] == "2"
    assert json.loads(response.headers["x-clarion-excluded"])["suppressed"] == 1
    assert len(rows(response.text)) == 2
    bad = client.post(f"/v1/segments/{segment}/export", params={"format": "fax"})
    assert bad.status_code == 422


def test_the_cli_exports_a_file(tmp_path: Path) -> None:
    env = {**os.environ, "CLARION_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}

    def clarion(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert clarion("init").returncode == 0
    people = tmp_path / "people.csv"
    people.write_text("email,country\nana@example.com,FR\nbo@example.com,FR\n")
    assert clarion("contacts", "import", str(people), "--consent", ADS).returncode == 0
    definition = tmp_path / "french.yaml"
    definition.write_text("key: french\nrule: {field: country, op: '=', value: FR}\n")
    assert clarion("segment", "create", str(definition)).returncode == 0
    out = tmp_path / "google.csv"
    done = clarion("segment", "export", "french", "--format", "google", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exported"] == 2
    assert rows(out.read_text())[0]["Email"] in {sha("ana@example.com"), sha("bo@example.com")}
