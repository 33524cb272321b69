"""Reading ruleset files from a directory (the I/O half of loading rulesets).

The pure compiler (``firekeeper.rules.compiler.compile_sources``) gets the file
texts; this module only finds, sorts and reads them: at most the size limit of each
file, decoded with every invalid UTF-8 sequence reported at its line and column.

What a file in a rulesets directory is (``rulesets/README.md``, "Files in a
rulesets directory"):

- ``*_test.yaml`` / ``*_test.yml``: a ruleset test suite (``firekeeper test``);
- another ``*.yaml`` / ``*.yml`` whose top level has a ``ruleset:`` key and at
  least one of ``rules:``, ``extends:``, ``profile:``: a ruleset. A YAML file
  that does not parse is taken as a ruleset too, so its error is reported
  rather than the file silently ignored;
- any other YAML file (an explain input, a chat state file, notes) is skipped,
  and ``firekeeper check`` says which and why; files of other types are ignored.

The shipped rulesets are package data (``firekeeper/rulesets``, a link to the
repository's ``rulesets/`` folder, so the wheel carries them and a checkout
reads them in place). A parent named by ``extends`` that the directory lacks
is taken from them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import yaml

from firekeeper.area_registry import VOCABULARY
from firekeeper.errors import Diagnostic, RulesetError
from firekeeper.rules.compiler import LIMITS, RulesetIndex, compile_sources
from firekeeper.rules.source import decode
from firekeeper.rules.vocabulary import Vocabulary

RULESET_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = ("_test.yaml", "_test.yml")
RULESET_KEY = "ruleset"
# A ruleset has its name and at least one of these; a chat state file (``ruleset``,
# ``chat``, ``members``) has the name only.
RULESET_BODY_KEYS = ("rules", "extends", "profile")


@dataclass(frozen=True)
class Skipped:
    """A file of a rulesets directory that is neither a ruleset nor a test, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Scan:
    """A rulesets directory sorted into rulesets (with their texts), tests and the rest."""

    directory: Path
    sources: dict[str, str] = field(default_factory=dict)
    tests: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def shipped_dir() -> Path:
    """The rulesets that ship with Firekeeper (package data ``firekeeper/rulesets``)."""
    return Path(str(resources.files("firekeeper").joinpath("rulesets"))).resolve()


def default_dir() -> Path:
    """``./rulesets`` when it exists, else the shipped rulesets."""
    here = Path.cwd() / "rulesets"
    if here.is_dir():
        return here
    return shipped_dir()


# libyaml's parser when PyYAML has it: the watcher sorts the directory every few seconds
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=1024)
def not_a_ruleset(text: str) -> str | None:
    """Why a (non-test) YAML text is not a ruleset, or None when it is one (cached by text,
    so an unchanged file is not parsed again on every reload check).

    Reads the parser's events and keeps only the top-level keys: linear in the text,
    no recursion and no object is built, so a hostile file (an alias bomb, deep
    nesting) costs no more here than its length; the compiler then reports it."""
    try:
        top = _top_level_keys(text)
    except (yaml.YAMLError, _Refused):
        return None  # a broken or hostile ruleset: the compiler reports where
    if top is None:
        return "empty"
    if isinstance(top, str):
        return "its top level is not a mapping"
    if RULESET_KEY not in top:
        keys = ", ".join(sorted(top)[:5])
        return f"no top-level `ruleset:` key (top-level keys: {keys})"
    if not any(k in top for k in RULESET_BODY_KEYS):
        return (
            "it names a ruleset but has none of `rules:`, `extends:`, `profile:`"
            " (a chat state file for explain/replay?)"
        )
    return None


class _Refused(Exception):
    """The text holds what the ruleset loader refuses (anchors, aliases, deep nesting)."""


def _top_level_keys(text: str) -> list[str] | str | None:
    """The scalar keys of the first document's top-level mapping; ``"other"`` when its top
    level is not a mapping; None when there is no document. Raises ``_Refused`` at what the
    ruleset loader refuses, so such a file is compiled and its errors are reported."""
    depth = 0
    mapping = False
    keys: list[str] = []
    expect_key = True  # at depth 1 of the top-level mapping: is the next node a key?
    collection_is_key = False
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.DocumentEndEvent):
            break
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused
        if depth > LIMITS.depth:
            raise _Refused
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if depth == 0:
                if isinstance(event, yaml.SequenceStartEvent):
                    return "other"
                mapping = True
            elif depth == 1:
                collection_is_key = expect_key
            depth += 1
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
            if depth == 1:
                expect_key = not collection_is_key
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            if depth == 0:
                return "other"
            if depth == 1:
                if expect_key and isinstance(event, yaml.ScalarEvent):
                    keys.append(event.value)
                expect_key = not expect_key
    return keys if mapping else None


def _missing(directory: Path) -> RulesetError:
    return RulesetError(
        [
            Diagnostic(
                str(directory),
                0,
                0,
                "rulesets directory does not exist",
                hint="pass --rulesets DIR or set FIREKEEPER_RULESETS_DIR",
            )
        ]
    )


def scan(directory: Path) -> Scan:
    """Read and sort the files of ``directory``; RulesetError when it is missing or unreadable."""
    found, errors = scan_all(directory)
    if errors:
        raise RulesetError(errors)
    return found


def scan_all(directory: Path) -> tuple[Scan, list[Diagnostic]]:
    """Like :func:`scan`, but the files that cannot be read are returned as problems beside
    the rest (``firekeeper check`` reports them with the others' errors); RulesetError only
    when the directory is missing."""
    if not directory.is_dir():
        raise _missing(directory)
    found = Scan(directory)
    errors: list[Diagnostic] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        if path.name.endswith(TEST_SUFFIXES):
            found.tests.append(path)
            continue
        if not path.name.endswith(RULESET_SUFFIXES):
            continue  # README, JSON Schemas, event files: not YAML, never rulesets
        try:
            with path.open("rb") as f:  # never more than the size limit and one byte
                data = f.read(LIMITS.file_bytes + 1)
        except OSError as exc:
            errors.append(Diagnostic(str(path), 0, 0, f"cannot read the file: {exc}"))
            continue
        text, problems = decode(str(path), data, LIMITS)
        if text is None:  # undecodable or too large: reported as a ruleset's errors
            errors += problems
            continue
        reason = None if problems else not_a_ruleset(text)  # a file with problems: reported
        if reason is None:
            errors += problems
            found.sources[str(path)] = text
        else:
            found.skipped.append(Skipped(path, reason))
    return found, errors


def read_sources(directory: Path) -> dict[str, str]:
    """The texts of the directory's rulesets; RulesetError when there are none."""
    found = scan(directory)
    if not found.sources:
        raise RulesetError([no_rulesets(directory)])
    return found.sources


def no_rulesets(directory: Path) -> Diagnostic:
    return Diagnostic(
        str(directory),
        0,
        0,
        "no ruleset files in the directory (a ruleset is a .yaml file with"
        " `ruleset:` and `rules:`, `extends:` or `profile:`)",
        hint="start from a shipped one: `extends: hobby` needs no copy of hobby.yaml",
    )


@functools.cache
def shipped_sources() -> Mapping[str, str]:
    """The shipped rulesets' texts, read once: the parents ``extends`` may borrow."""
    directory = shipped_dir()
    if not directory.is_dir():
        return MappingProxyType({})
    return MappingProxyType(dict(scan(directory).sources))


def compile_dir_sources(
    sources: Mapping[str, str],
    previous: RulesetIndex | None = None,
    *,
    vocabulary: Vocabulary = VOCABULARY,
) -> RulesetIndex:
    """Compile a directory's sources, with the shipped rulesets as fallback parents
    (``previous``: the index serving now, whose unchanged matchers are shared), against
    ``vocabulary``: the service's, the core's fields and every registered area's."""
    return compile_sources(sources, previous, shipped=shipped_sources(), vocabulary=vocabulary)


def load(directory: Path) -> RulesetIndex:
    """Read and compile every ruleset in the directory; RulesetError lists every problem."""
    return compile_dir_sources(read_sources(directory))
