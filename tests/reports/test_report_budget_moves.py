"""The report's budget-moves finding: where the applied split moved, read from its history."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from clarion.analytics.scope import scoped
from clarion.auth.contracts import Workspace
from clarion.instance import Instance
from clarion.optimize.contracts import BudgetChange
from clarion.reports.findings import budget_moves

AT = datetime(2027, 3, 5, tzinfo=UTC)


def change(status: str, search: str, display: str) -> BudgetChange:
    return BudgetChange(
        id=f"chg-{search}",
        at=AT,
        actor="allocator",
        status=status,
        reason="posterior marginal return",
        split={"search/brand": Decimal(search), "display/retarget": Decimal(display)},
        expected={},
        reverts=None,
        applied_at=AT,
        applied_by="allocator",
    )


def test_money_moved_toward_search_is_named_with_both_ends(
    instance: Instance, workspace: Workspace
) -> None:
    assert instance.events is not None
    history = [
        change("applied", "100", "100"),
        change("recommended", "400", "0"),  # never applied: not a move
        change("applied", "130", "70"),
        change("applied", "150", "50"),
    ]
    found = budget_moves(scoped(instance.events, workspace.id), ("c1",), history, "EUR")
    (finding,) = found.findings
    assert finding.kind == "budget_move"
    assert finding.title == "Budget moved toward search"
    assert finding.evidence["changes"] == 2
    channels = {c["channel"]: c for c in finding.evidence["channels"]}
    assert channels["search"]["first_daily"] == 100.0 and channels["search"]["last_daily"] == 150.0
    assert channels["display"]["change"] == -50.0
    assert "no conversions measured" in finding.detail  # nothing invented where nothing was seen
    assert found.chart is not None and found.chart[0] == "budget-by-channel"


def test_a_split_never_changed_is_said_not_invented(
    instance: Instance, workspace: Workspace
) -> None:
    assert instance.events is not None
    found = budget_moves(
        scoped(instance.events, workspace.id), ("c1",), [change("applied", "100", "100")], "EUR"
    )
    assert found.findings == []
    assert found.notes[0].section == "budget moves"
