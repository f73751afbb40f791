"""Contacts import from CSV and JSONL: shapes, mapping, dedup, the error file, streaming."""

from __future__ import annotations

import csv
import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clarion.audiences import service as contacts
from clarion.audiences.contracts import ImportReport
from clarion.audiences.mirror import current_contacts
from clarion.audiences.reader import parse_mapping
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.core.ids import SeededIds
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

SIMPLE = """\
email,first_name,last_name,phone,country,company_size
jane@example.com,Jane,Doe,030 1234567,DE,250
bob@example.org,Bob,,+44 20 7946 0958,uk,
"""


@pytest.fixture
def events(clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open("duckdb://:memory:", clock=clock) as store:
        store.create_schema()
        yield store


@pytest.fixture
def run(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, ids: SeededIds
) -> Any:
    def run(path: Path, **options: Any) -> ImportReport:
        return contacts.import_contacts(
            store, events, path, workspace_id=workspace.id, clock=clock, ids=ids, **options
        )

    return run


def write(tmp_path: Path, text: str, name: str = "people.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def error_rows(path: Path) -> list[tuple[str, str, str]]:
    with path.with_name(path.name + ".errors.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["row", "field", "problem"]
    return [(r[0], r[1], r[2]) for r in rows[1:]]


def test_a_clean_file_is_imported_and_importing_it_again_changes_nothing(
    run: Any, store: AppStore, events: EventStore, workspace: Workspace, tmp_path: Path
) -> None:
    path = write(tmp_path, SIMPLE)
    report = run(path, consents=["marketing:email"])
    assert (report.rows_read, report.created, report.rejected) == (2, 2, 0)
    assert report.errors_path is None and report.consents_recorded == 2
    assert report.columns["company_size"] == "attributes.company_size"
    jane = contacts.find_contact(store, workspace.id, email="jane@example.com")
    assert jane is not None
    assert (jane.phone, jane.last_name, jane.attributes) == (
        "+49301234567",
        "Doe",
        {"company_size": "250"},
    )
    history = contacts.consent_history(store, workspace.id, jane.id)
    assert [(e.pair, e.proof_kind, e.proof_ref) for e in history] == [
        ("marketing:email", "import", "people.csv row 2")
    ]
    again = run(path, consents=["marketing:email"])
    assert (again.created, again.unchanged, again.consents_recorded) == (0, 2, 0)
    assert current_contacts(events, workspace.id).count().execute() == 2


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("\ufeff" + SIMPLE, "utf-8"),  # a byte-order mark, as Excel writes
        (SIMPLE.replace(",", ";"), "utf-8"),  # ; as European spreadsheets write
        (SIMPLE.replace(",", "\t"), "utf-8"),
        (SIMPLE.replace("\n", "\r\n"), "utf-8"),
        (SIMPLE, "utf-16"),
    ],
)
def test_encodings_delimiters_and_line_ends_are_understood(
    run: Any, tmp_path: Path, text: str, encoding: str
) -> None:
    report = run(write(tmp_path, text, encoding=encoding))
    assert (report.created, report.rejected) == (2, 0)
    assert report.columns["email"] == "email"


def test_quoted_cells_may_hold_delimiters_and_line_breaks(
    run: Any, store: AppStore, workspace: Workspace, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        'email;address;city\n"a@x.org";"Hauptstr. 1;\nHinterhaus";"Köln"\nb@x.org;;Bonn\n',
    )
    report = run(path)
    assert (report.created, report.rejected) == (2, 0)
    a = contacts.find_contact(store, workspace.id, email="a@x.org")
    assert a is not None and a.address_line1 == "Hauptstr. 1; Hinterhaus"


def test_bad_rows_are_explained_beside_the_file_and_good_ones_kept(
    run: Any, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "E-Mail,Phone,Country,Newsletter\n"
        "good@x.org,,,yes\n"
        "not-an-address,,,\n"
        "c@x.org,0301234567,,\n"
        "d@x.org,,Narnia,maybe\n"
        ",,,\n"
        "e@x.org,,DE,no,surplus\n"
        "=cmd|'/C calc'!A0,,,\n",
    )
    report = run(path, mapping=parse_mapping(["newsletter=consent:newsletter:email"]))
    assert (report.rows_read, report.created, report.rejected, report.skipped) == (6, 1, 5, 1)
    assert report.errors_path == tmp_path / "people.csv.errors.csv"
    rows = error_rows(path)
    assert [(r, f) for r, f, _ in rows] == [
        ("3", "E-Mail"),
        ("4", "Phone"),
        ("5", "Newsletter"),
        ("5", "Country"),
        ("7", "(row)"),
        ("8", "E-Mail"),
    ]
    assert "has no country code" in rows[1][2]
    assert "has 5 cells but the header has 4" in rows[4][2]
    assert rows[5][2][0] in "'\"" and "=cmd" in rows[5][2]  # quoted: never a formula
    # A later import without problems removes the stale report.
    run(write(tmp_path, "email\nf@x.org\n"))
    assert not (tmp_path / "people.csv.errors.csv").exists()


def test_duplicates_in_the_file_and_in_the_store_are_merged(
    run: Any, store: AppStore, workspace: Workspace, tmp_path: Path
) -> None:
    run(write(tmp_path, "external_id,email,first_name\ncrm-9,stored@x.org,Stored\n", "old.csv"))
    lines = ["id,email,first_name,tier"]
    lines += [f"crm-{i},p{i}@x.org,P{i}," for i in range(6)]
    lines += ["crm-2,,Second,gold", ",P4@X.org,,silver", "crm-9,stored@x.org,Updated,"]
    lines += ["crm-7,p1@x.org,,"]  # the address is crm-1's
    report = run(write(tmp_path, "\n".join(lines) + "\n"), batch_size=4)
    assert (report.created, report.updated, report.merged, report.rejected) == (6, 1, 2, 1)
    assert error_rows(tmp_path / "people.csv")[0][:2] == ("11", "id")
    second = contacts.find_contact(store, workspace.id, external_id="crm-2")
    assert second is not None and (second.first_name, second.attributes) == (
        "Second",
        {"tier": "gold"},
    )
    fourth = contacts.find_contact(store, workspace.id, email="p4@x.org")
    assert fourth is not None and fourth.attributes == {"tier": "silver"}


def test_columns_can_be_mapped_renamed_and_ignored(
    run: Any, store: AppStore, workspace: Workspace, tmp_path: Path
) -> None:
    path = write(tmp_path, "Mail Adresse,Vorname,Geheim,SMS OK\na@x.org,Anna,s3cret,ja\n")
    mapping = parse_mapping(
        [
            "Mail Adresse=email",
            "vorname=first_name",
            "GEHEIM=-",
            "sms ok=consent:marketing:sms",
        ]
    )
    report = run(path, mapping=mapping)
    assert report.ignored_columns == ("Geheim",)
    anna = contacts.find_contact(store, workspace.id, email="a@x.org")
    assert anna is not None and anna.first_name == "Anna" and anna.attributes == {}
    states = contacts.current_consent(store, workspace.id, anna.id, now=anna.created_at)
    assert [(s.pair, s.status) for s in states] == [("marketing:sms", "granted")]


@pytest.mark.parametrize(
    ("text", "mapping", "problem"),
    [
        ("", [], "is empty"),
        ("first_name,last_name\nA,B\n", [], "no email or external id column"),
        ("email,Email\na@x.org,b@x.org\n", [], "more than once"),
        ("email,e-mail address\na@x.org,b@x.org\n", [], "both fill email"),
        ("email\na@x.org\n", ["nope=email"], "the file has no column 'nope'"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused_whole(
    run: Any, tmp_path: Path, text: str, mapping: list[str], problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        run(write(tmp_path, text), mapping=parse_mapping(mapping))


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"mapping": ["email"]}, "is not COLUMN=FIELD"),
        ({"mapping": ["a=password"]}, "unknown field 'password'"),
        ({"consents": ["marketing:fax"]}, "--consent: unknown channel"),
        ({"default_country": "Narnia"}, "--country"),
    ],
)
def test_bad_options_are_refused_naming_the_option(
    run: Any, tmp_path: Path, options: dict[str, Any], problem: str
) -> None:
    path = write(tmp_path, SIMPLE)
    with pytest.raises(InvalidInput, match=problem):
        if "mapping" in options:
            options["mapping"] = parse_mapping(options["mapping"])
        run(path, **options)


def test_an_excel_workbook_is_named_as_such(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "people.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InvalidInput, match="Excel workbook"):
        run(path)


def test_hostile_rows_cost_one_row_each(
    run: Any, store: AppStore, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("email,first_name,notes\n")
        f.write('a@x.org,"Robert\'); DROP TABLE contacts;--",<script>alert(1)</script>\n')
        f.write("b@x.org,B," + "x" * 200_000 + "\n")  # one line longer than any cell may be
        f.write('c@x.org,"unterminated,\n')
        f.write("d@x.org,D,\x00\n")
    path.write_bytes(path.read_bytes() + b"e@x.org,\xff\xfe,\n")
    report = run(path)
    rows = error_rows(path)
    assert report.created == 1
    assert "longer than" in rows[0][2]
    a = contacts.find_contact(store, workspace.id, email="a@x.org")
    assert a is not None and a.attributes == {"notes": "<script>alert(1)</script>"}
    assert a.first_name == "Robert'); DROP TABLE contacts;--"


def test_jsonl_files_are_read_line_by_line(
    run: Any, store: AppStore, workspace: Workspace, tmp_path: Path
) -> None:
    lines = [
        {"email": "a@x.org", "first_name": "A", "plan": "pro", "consents": ["marketing:email"]},
        {"external_id": 42, "attributes": {"score": 7.5}, "sms": True},
        {"email": "nope"},
        [1, 2],
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n{broken\n\n"
    path = write(tmp_path, text, "people.jsonl")
    report = run(path, mapping=parse_mapping(["sms=consent:marketing:sms"]))
    assert report.file_format == "jsonl"
    assert (report.created, report.rejected, report.skipped) == (2, 3, 1)
    assert [(r, f) for r, f, _ in error_rows(path)] == [
        ("3", "email"),
        ("4", "(row)"),
        ("5", "(row)"),
    ]
    a = contacts.find_contact(store, workspace.id, email="a@x.org")
    assert a is not None and a.attributes == {"plan": "pro"}
    numbered = contacts.find_contact(store, workspace.id, external_id="42")
    assert numbered is not None and numbered.attributes == {"score": 7.5}


def test_an_import_streams_in_bounded_memory(
    run: Any, events: EventStore, workspace: Workspace, tmp_path: Path
) -> None:
    rows = 5_000
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("email,first_name,country,phone,tier\n")
        f.writelines(f"p{i}@example.com,P{i},DE,+4930{1000000 + i},t{i % 7}\n" for i in range(rows))
    run(write(tmp_path, "email\nwarm@x.org\n", "warm.csv"))  # first-use costs are not the point
    tracemalloc.start()
    try:
        started = time.perf_counter()
        report = run(path, consents=["marketing:email"], batch_size=1000)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.created, report.rejected) == (rows, 0)
    assert current_contacts(events, workspace.id).count().execute() == rows + 1
    print(f"\n{rows} rows in {elapsed:.1f} s traced, peak {peak / 2**20:.1f} MiB")
    assert peak < 40 * 2**20  # a batch's worth, not the file's
