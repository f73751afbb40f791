"""Route for POST /v1/spend: an ad platform's spend export, uploaded instead of imported by file."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.campaigns import service as campaigns
from clarion.core.errors import FieldProblem, InvalidInput, StoreBusy
from clarion.tracking.spend.formats import FormatChoice
from clarion.tracking.spend.importer import ImportReport, import_spend

router = APIRouter(prefix="/v1", tags=["spend"])

_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@router.post("/spend")
async def upload_spend(
    request: Request,
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    name: Annotated[
        str,
        Query(
            description="the export's file name: the import's source, so that uploading the "
            "same name again replaces what it reported (letters, digits, . _ -)"
        ),
    ],
    layout: Annotated[FormatChoice, Query(description="the export's layout")] = "auto",
    channel: Annotated[
        str | None, Query(max_length=40, description="channel for rows that name none")
    ] = None,
    currency: Annotated[
        str | None, Query(pattern=r"^[A-Z]{3}$", description="currency for rows that name none")
    ] = None,
) -> dict[str, Any]:
    """The CSV body (as `clarion spend import` reads a file): good rows are stored, bad ones are
    named in ``problems`` (the first few) and counted in ``rows_rejected``."""
    if not _NAME.match(name):
        raise InvalidInput(
            "name: letters, digits, '.', '_' and '-' only, at most 100",
            [FieldProblem("name", "letters, digits, '.', '_' and '-' only, at most 100")],
        )
    if instance.events is None:
        raise StoreBusy("this server does not own the event store; spend imports need it")
    body = await request.body()
    events = instance.events

    def store() -> ImportReport:
        keys = {c.key: c.id for c in campaigns.list_campaigns(instance.store, key.workspace_id)}
        with tempfile.TemporaryDirectory(prefix="clarion-spend-") as folder:
            path = Path(folder) / name
            path.write_bytes(body)
            return import_spend(
                events,
                path,
                workspace_id=key.workspace_id,
                clock=instance.clock,
                layout=layout,
                channel=channel,
                currency=currency,
                campaign_ids=keys,
            )

    report = await run_in_threadpool(store)  # DuckDB work off the event loop
    answer = report.as_dict()
    answer.pop("errors_path")  # a file on the server, gone with the upload
    return answer
