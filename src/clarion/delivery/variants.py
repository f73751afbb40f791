"""A step's experiment: what each arm changes, which arm each contact gets, who waits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from clarion.experiments import service as experiments
from clarion.experiments.assignment import assign, in_test_share
from clarion.experiments.design import ExperimentKind
from clarion.experiments.lifecycle import ExperimentState
from clarion.stores.app import AppStore

# What an arm's `content` may change in the step; anything else is refused at start.
VARIANT_FIELDS: Final = ("subject", "template", "template_version")
SENT_KINDS: Final = (ExperimentKind.SUBJECT_LINE, ExperimentKind.CONTENT)


@dataclass(frozen=True)
class StepExperiment:
    """The experiment a step sends: arm → overrides of the step, weights, the test share."""

    key: str
    id: str
    overrides: dict[str, dict[str, Any]]  # variant → {subject?, template?, template_version?}
    weights: dict[str, float]
    test_share: float | None  # test-then-send: the share that gets the arms; None: everyone

    def as_options(self) -> dict[str, Any]:
        """The JSON kept in the send's options (the worker renders and exposes from it)."""
        return {
            "key": self.key,
            "id": self.id,
            "overrides": self.overrides,
            "weights": self.weights,
            "test_share": self.test_share,
        }

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> StepExperiment | None:
        """The experiment stored in a send's options, or None for a plain send."""
        found = options.get("arms")
        if not isinstance(found, Mapping):
            return None
        return cls(
            key=str(found["key"]),
            id=str(found["id"]),
            overrides={k: dict(v) for k, v in found["overrides"].items()},
            weights={k: float(v) for k, v in found["weights"].items()},
            test_share=None if found["test_share"] is None else float(found["test_share"]),
        )

    def split(self, contact_ids: Sequence[str]) -> tuple[dict[str, str], list[str]]:
        """Each contact's arm by the experiment's deterministic assignment, and the contacts
        held back for the winner (outside the test share of a test-then-send experiment)."""
        variants: dict[str, str] = {}
        held: list[str] = []
        for contact_id in contact_ids:
            if self.test_share is not None and not in_test_share(
                self.key, contact_id, self.test_share
            ):
                held.append(contact_id)
            else:
                variants[contact_id] = assign(self.key, contact_id, self.weights)
        return variants, held

    def exposed(self, contact_id: str) -> bool:
        """Whether a message to this contact is an exposure (not a rollout to the rest)."""
        return self.test_share is None or in_test_share(self.key, contact_id, self.test_share)


def variant_options(options: Mapping[str, Any], variant: str | None) -> dict[str, Any]:
    """The step's options as the variant changes them (what the renderer is built from)."""
    plan = StepExperiment.from_options(options)
    if plan is None or variant is None or variant not in plan.overrides:
        return dict(options)
    return {**options, **plan.overrides[variant]}


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
    clock: Clock,
    actor: str,
) -> StepExperiment:
    """The step's experiment, checked: on this campaign, of a kind the sender varies, not
    finished, its arms' content readable. A draft is started (its history says by whom)."""
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
    if experiment.state is ExperimentState.DRAFT:
        experiment = experiments.start(store, workspace_id, design.key, clock=clock, actor=actor)
    if experiment.state is not ExperimentState.RUNNING:
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
