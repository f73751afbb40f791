"""Ad spend import: CSV exports of ad platforms into the event store's ``ad_spend`` table."""

from clarion.core.textfiles import errors_path_for
from clarion.tracking.spend.current import ROW_KEY, current_spend
from clarion.tracking.spend.formats import LAYOUTS, FormatChoice, Layout, LayoutName
from clarion.tracking.spend.importer import (
    ImportReport,
    RowProblem,
    import_spend,
)
from clarion.tracking.spend.reader import SpendFile

__all__ = [
    "LAYOUTS",
    "ROW_KEY",
    "FormatChoice",
    "ImportReport",
    "Layout",
    "LayoutName",
    "RowProblem",
    "SpendFile",
    "current_spend",
    "errors_path_for",
    "import_spend",
]
