"""A step's experiment: what each arm changes, which arm each contact gets, who waits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clarion.experiments.assignment import assign, in_test_share


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
