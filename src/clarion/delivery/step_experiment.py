"""Resolve the experiment an email step names when its send starts: checked, started."""

from __future__ import annotations

from typing import Any, Final

from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from clarion.delivery.variants import StepExperiment
from clarion.experiments import service as experiments
from clarion.experiments.design import ExperimentKind
from clarion.experiments.lifecycle import ExperimentState
from clarion.stores.app import AppStore

# What an arm's `content` may change in the step; anything else is refused at start.
VARIANT_FIELDS: Final = ("subject", "template", "template_version")
SENT_KINDS: Final = (ExperimentKind.SUBJECT_LINE, ExperimentKind.CONTENT)


def _overrides(key: str, spec: Any, index: int) -> tuple[dict[str, Any], list[FieldProblem]]:
    found: dict[str, Any] = {}
    problems = []
    for name, value in spec.content.items():
        path = f"experiment {key}: variants[{index}].content.{name}"
        if name not in VARIANT_FIELDS:
            allowed = ", ".join(VARIANT_FIELDS)
            problems.append(FieldProblem(path, f"the sender reads only {allowed}"))
        elif name == "template_version":
            if not value.isdigit() or int(value) < 1:
                problems.append(FieldProblem(path, f"not a version number: {value[:40]!r}"))
            else:
                found[name] = int(value)
        else:
            found[name] = value
    return found, problems


def resolve(
    store: AppStore,
    workspace_id: str,
    campaign_id: str,
    experiment_key: str,
    *,
    path: str,
) -> StepExperiment:
    """The step's experiment, checked: on this campaign, of a kind the sender varies, not
    finished, its arms' content readable. Nothing changes (see ``start``)."""
    try:
        experiment = experiments.get_experiment(store, workspace_id, experiment_key)
    except NotFound:
        problem = f"no experiment {experiment_key!r} in this workspace"
        raise InvalidInput(problem, [FieldProblem(path, problem)]) from None
    design = experiment.design
    problems = []
    if experiment.campaign_id != campaign_id:
        problems.append(FieldProblem(path, f"experiment {design.key!r} is on another campaign"))
    if design.kind not in SENT_KINDS:
        kinds = " or ".join(k.value for k in SENT_KINDS)
        problems.append(
            FieldProblem(path, f"experiment {design.key!r} is a {design.kind.value} test: {kinds}")
        )
    overrides: dict[str, dict[str, Any]] = {}
    for index, spec in enumerate(design.variants):
        overrides[spec.key], found = _overrides(design.key, spec, index)
        problems += found
    if problems:
        raise InvalidInput(f"{path}: {problems[0].problem}", problems)
    if experiment.state not in (ExperimentState.DRAFT, ExperimentState.RUNNING):
        raise Conflict(
            f"experiment {design.key!r} is {experiment.state.value}: a send needs it running",
            {"state": experiment.state.value},
        )
    tts = design.test_then_send
    return StepExperiment(
        key=design.key,
        id=experiment.id,
        overrides=overrides,
        weights=design.weights(),
        test_share=None if tts is None else tts.test_share,
    )


def start(
    store: AppStore, workspace_id: str, arms: StepExperiment, *, clock: Clock, actor: str
) -> None:
    """Start the experiment if it is still a draft (its history says who started it)."""
    experiment = experiments.get_experiment(store, workspace_id, arms.id)
    if experiment.state is ExperimentState.DRAFT:
        experiments.start(store, workspace_id, arms.id, clock=clock, actor=actor)
