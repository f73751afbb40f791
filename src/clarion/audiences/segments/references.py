"""Segments that use segments: resolving references, finding cycles, inlining the rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from clarion.audiences.segments.context import SegmentContext
from clarion.audiences.segments.rules import (
    MAX_DEPTH,
    MAX_NODES,
    AllOf,
    AnyOf,
    NotRule,
    RuleNode,
    SegmentRule,
    children,
)
from clarion.core.errors import FieldProblem

# With the segments they use inlined, a rule may grow to this size and depth.
MAX_EXPANDED_NODES: Final = 4 * MAX_NODES
MAX_EXPANDED_DEPTH: Final = 2 * MAX_DEPTH
MAX_CHAIN: Final = 8  # segments using segments using segments...

LocalCheck = Callable[[RuleNode, str], list[FieldProblem]]


def segment_references(rule: RuleNode, root: str = "rule") -> list[tuple[str, str]]:
    """(path, key) of every ``{segment: key}`` in the tree, in document order."""
    found = []
    stack = [(rule, root)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, SegmentRule):
            found.append((f"{path}.segment", node.segment))
        for suffix, child in reversed(children(node)):
            stack.append((child, path + suffix))
    return found


class _Graph:
    """The segments reachable from one rule, resolved once each, with their inlined sizes."""

    def __init__(self, context: SegmentContext, check: LocalCheck) -> None:
        self.context = context
        self.check = check
        self.rules: dict[str, RuleNode | None] = {}
        self.sizes: dict[str, tuple[int, int]] = {}  # key -> (nodes, depth) once inlined
        self.done: set[str] = set()  # keys whose references are known to be sound

    def resolve(self, key: str) -> RuleNode | None:
        if key not in self.rules:
            self.rules[key] = self.context.resolve_segment(key)
        return self.rules[key]

    def problem(self, key: str, chain: list[str]) -> str | None:  # noqa: PLR0911  (one per kind)
        """What is wrong with using segment ``key`` after the segments in ``chain``."""
        if key in chain:
            cycle = " → ".join([*chain[chain.index(key) :], key])
            return f"segments reference each other in a cycle: {cycle}"
        if key in self.done:
            return None
        if len(chain) >= MAX_CHAIN:
            return f"segments use segments more than {MAX_CHAIN} deep"
        rule = self.resolve(key)
        if rule is None:
            return f"unknown segment {key!r}"
        local = self.check(rule, "rule")
        if local:
            first = local[0]
            return f"segment {key!r} is invalid: {first.path}: {first.problem}"
        for _, inner in segment_references(rule):
            problem = self.problem(inner, [*chain, key])
            if problem is not None:
                return problem
        self.done.add(key)
        return None

    def size(self, rule: RuleNode) -> tuple[int, int]:
        """(nodes, depth) of ``rule`` with every reference inlined; references must be sound."""
        if isinstance(rule, SegmentRule):
            if rule.segment not in self.sizes:
                inner = self.resolve(rule.segment)
                assert inner is not None  # checked by problem() first
                self.sizes[rule.segment] = self.size(inner)
            return self.sizes[rule.segment]
        nodes, depth = 1, 0
        for _, child in children(rule):
            child_nodes, child_depth = self.size(child)
            nodes += child_nodes
            depth = max(depth, child_depth)
        return nodes, depth + 1


def reference_problems(
    rule: RuleNode, context: SegmentContext, check: LocalCheck, root: str = "rule"
) -> list[FieldProblem]:
    """Unknown segments, cycles, invalid referenced segments, and an oversized inlined rule.

    ``check`` lists a rule's own problems (not its references'); each problem is reported at
    the path of the reference in ``rule`` that leads to it.
    """
    references = segment_references(rule, root)
    if not references:
        return []
    graph = _Graph(context, check)
    start = [context.segment_key] if context.segment_key else []
    problems = []
    for path, key in references:
        problem = graph.problem(key, start)
        if problem is not None:
            problems.append(FieldProblem(path, problem))
    if problems:
        return problems
    nodes, depth = graph.size(rule)
    if nodes > MAX_EXPANDED_NODES:
        problems.append(
            FieldProblem(
                root,
                f"with the segments it uses, the rule has {nodes} rules; "
                f"at most {MAX_EXPANDED_NODES}",
            )
        )
    if depth > MAX_EXPANDED_DEPTH:
        problems.append(
            FieldProblem(
                root,
                f"with the segments it uses, the rule is {depth} rules deep; "
                f"at most {MAX_EXPANDED_DEPTH}",
            )
        )
    return problems


def expand(rule: RuleNode, context: SegmentContext) -> RuleNode:
    """The rule with every ``{segment: key}`` replaced by that segment's rule (validated)."""
    cache: dict[str, RuleNode] = {}

    def inline(node: RuleNode) -> RuleNode:
        if isinstance(node, SegmentRule):
            if node.segment not in cache:
                inner = context.resolve_segment(node.segment)
                if inner is None:  # changed since validation: refuse rather than guess
                    raise LookupError(f"segment {node.segment!r} disappeared")
                cache[node.segment] = inline(inner)
            return cache[node.segment]
        if isinstance(node, AllOf):
            return AllOf(all=[inline(child) for child in node.all])
        if isinstance(node, AnyOf):
            return AnyOf(any=[inline(child) for child in node.any])
        if isinstance(node, NotRule):
            return NotRule(not_=inline(node.not_))
        return node

    return inline(rule)
