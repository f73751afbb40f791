"""Campaign files ("campaigns as code"): read a YAML file into a validated plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from clarion.campaigns.plan import CampaignPlan, parse_plan
from clarion.core.errors import FieldProblem, InvalidInput

MAX_FILE_BYTES = 1_048_576  # a plan is a page of text; anything bigger is a mistake or an attack


class _PlanLoader(yaml.SafeLoader):
    """Safe YAML without aliases: a campaign needs none, and they allow exponential blow-ups."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in campaign files", mark
            )
        return super().compose_node(parent, index)


def _fail(source: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{source}: {problem}", [FieldProblem("(file)", problem)], source)


def load_plan_text(text: str, source: str) -> CampaignPlan:
    """Parse YAML text into a sound plan; InvalidInput names the source, field and problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise _fail(source, f"larger than {MAX_FILE_BYTES:,} bytes")
    try:
        documents = list(yaml.load_all(text, Loader=_PlanLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _fail(source, f"malformed YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise _fail(source, f"malformed YAML: {exc}") from None
    documents = [d for d in documents if d is not None]
    if len(documents) != 1:
        raise _fail(source, f"expected one campaign document, found {len(documents)}")
    data = documents[0]
    if not isinstance(data, dict):
        raise _fail(source, "expected a mapping of campaign fields at the top level")
    return parse_plan(data, source)


def load_plan_file(path: Path) -> CampaignPlan:
    """Read a campaign file from disk (UTF-8) into a sound plan."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(source, f"larger than {MAX_FILE_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _fail(source, "no such file") from None
    except IsADirectoryError:
        raise _fail(source, "is a directory, not a campaign file") from None
    except UnicodeDecodeError as exc:
        raise _fail(source, f"not UTF-8 text (byte {exc.start})") from None
    return load_plan_text(text, source)
