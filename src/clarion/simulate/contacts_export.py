"""A population as contacts: a CSV of what a CRM would know, imported by the real importer."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from clarion.audiences import service as contacts
from clarion.audiences.contracts import ImportReport
from clarion.audiences.reader import parse_mapping
from clarion.core.clock import Clock
from clarion.core.ids import IdSource
from clarion.simulate.population import UNKNOWN_ZONE, ZONES, Population
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

CONSENT_COLUMN: Final = "marketing_email_consent"
# The file's columns the importer would not recognise on its own (checked as ``--map`` is).
MAPPING: Final = parse_mapping([f"{CONSENT_COLUMN}=consent:marketing:email", "age=attributes.age"])


def write_contacts_file(population: Population, path: Path) -> Path:
    """Write the people as a contacts CSV; latent traits (interest, bad addresses) stay out.

    Only what a real CRM would hold is written: ids, address, country, persona, age, time
    zone and the marketing:email consent (``yes``, or empty: nothing recorded).
    """
    size = population.size
    index = np.arange(size)
    zones = [ZONES.get(c, UNKNOWN_ZONE)[1] for c in population.countries]
    seed = population.seed
    table = pa.table(
        {
            "external_id": pa.array(
                np.char.add(f"sim-{seed}-", np.char.zfill(index.astype(str), 7))
            ),
            "email": pa.array(
                np.char.add(
                    np.char.add("p", np.char.zfill(index.astype(str), 7)), f"@s{seed}.example.com"
                )
            ),
            "country": pa.array(np.array(population.countries)[population.country]),
            "persona": pa.array(np.array(population.persona_keys)[population.persona]),
            "age": pa.array(population.age.astype(np.int64)),
            "timezone": pa.array(np.array(zones)[population.country]),
            CONSENT_COLUMN: pa.array(np.where(population.email_consent, "yes", "")),
        }
    )
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    return path


def import_population(
    store: AppStore,
    events: EventStore,
    population: Population,
    path: Path,
    *,
    workspace_id: str,
    clock: Clock,
    ids: IdSource,
) -> ImportReport:
    """Write the contacts file at ``path`` and import it with the contacts importer."""
    write_contacts_file(population, path)
    return contacts.import_contacts(
        store,
        events,
        path,
        workspace_id=workspace_id,
        clock=clock,
        ids=ids,
        mapping=MAPPING,
        source=f"simulator:seed {population.seed}",
    )
