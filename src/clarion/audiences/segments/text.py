"""Read segment JSON or YAML text, refusing deep nesting with its path before it recurses."""

from __future__ import annotations

import json
from typing import Any, Final

import yaml

from clarion.audiences.segments.rules import MAX_RAW_DEPTH, rule_rejected
from clarion.core.errors import FieldProblem
from clarion.core.validation import field_path

MAX_TEXT_BYTES: Final = 256 * 1024  # a segment is a page of rules
_TOO_DEEP: Final = "nested too deeply: a rule tree may be at most 32 rules deep"


class _TooDeep(Exception):
    def __init__(self, parts: list[str | int]) -> None:
        super().__init__("too deep")
        self.parts = parts


class _Loader(yaml.SafeLoader):
    """Safe YAML without aliases, with a nesting limit checked while the tree is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._parts: list[str | int] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in segments", mark
            )
        if parent is None:
            return super().compose_node(parent, index)
        if isinstance(index, int):
            part: str | int = index
        else:
            part = str(getattr(index, "value", "?"))
        self._parts.append(part)
        try:
            opens = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
            if opens and len(self._parts) >= MAX_RAW_DEPTH:
                raise _TooDeep(list(self._parts))
            return super().compose_node(parent, index)
        finally:
            self._parts.pop()


def _problem(source: str, path: str, problem: str) -> Exception:
    error = rule_rejected([FieldProblem(path, problem)])
    error.details["source"] = source
    return error


def _path(root: str, parts: list[str | int]) -> str:
    inner = field_path(parts) if parts else ""
    if not root:
        return inner or "(root)"
    return root + ("" if not inner or inner.startswith("[") else ".") + inner


def _check_size(text: str | bytes, source: str, root: str) -> str:
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_TEXT_BYTES:
        raise _problem(source, root or "(root)", f"larger than {MAX_TEXT_BYTES:,} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _problem(source, root or "(root)", f"not UTF-8 text (byte {exc.start})") from None


def load_yaml(text: str | bytes, *, source: str = "segment", root: str = "") -> Any:
    """Parsed YAML (one document) for ``parse_rule``/``parse_segment``; InvalidInput if the
    text is malformed, too large or nested too deeply (with the path where it goes too deep)."""
    decoded = _check_size(text, source, root)
    loader = _Loader(decoded)
    try:
        return loader.get_single_data()
    except _TooDeep as deep:
        raise _problem(source, _path(root, deep.parts), _TOO_DEEP) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = f"malformed YAML{where}: {exc.problem or exc.context}"
        raise _problem(source, root or "(root)", problem) from None
    except yaml.YAMLError as exc:
        raise _problem(source, root or "(root)", f"malformed YAML: {exc}") from None
    finally:
        loader.dispose()


def load_json(text: str | bytes, *, source: str = "segment", root: str = "") -> Any:
    """Parsed JSON for ``parse_rule``/``parse_segment``, with the same guards as load_yaml.

    Python's JSON parser recurses; text nested past its limit is scanned without recursion
    to name the path where it goes too deep (shallower nesting is found by ``parse_rule``).
    """
    decoded = _check_size(text, source, root)
    try:
        return json.loads(decoded)
    except RecursionError:
        parts = _deep_path(decoded, MAX_RAW_DEPTH) or []
        raise _problem(source, _path(root, parts), _TOO_DEEP) from None
    except ValueError as exc:
        raise _problem(source, root or "(root)", f"malformed JSON: {exc}") from None


def _deep_path(text: str, limit: int) -> list[str | int] | None:
    """The path of the first array or object opened more than ``limit`` levels deep."""
    # Each open container: [kind, key or index, expecting a key].
    frames: list[list[Any]] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < size and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if frames and frames[-1][0] == "{" and frames[-1][2]:
                try:
                    frames[-1][1] = json.loads(text[i : end + 1])
                except ValueError:
                    frames[-1][1] = text[i + 1 : end]
                frames[-1][2] = False
            i = end + 1
            continue
        if char in "{[":
            if len(frames) >= limit:
                return [frame[1] for frame in frames]
            frames.append([char, 0 if char == "[" else "?", char == "{"])
        elif char in "}]" and frames:
            frames.pop()
        elif char == "," and frames:
            if frames[-1][0] == "[":
                frames[-1][1] += 1
            else:
                frames[-1][2] = True
        i += 1
    return None
