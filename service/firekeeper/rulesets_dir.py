"""Reading ruleset files from a directory (the I/O half of loading rulesets).

The pure compiler (``firekeeper.rules.compiler.compile_sources``) gets the file
texts; this module only finds, sorts and reads them.

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

from firekeeper.errors import Diagnostic, RulesetError
from firekeeper.rules.compiler import RulesetIndex, compile_sources

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
    so an unchanged file is not parsed again on every reload check)."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # a safe loader (no object tags)
    except yaml.YAMLError:
        return None  # a broken ruleset: the compiler reports where
    if not isinstance(doc, dict):
        return "empty" if doc is None else "its top level is not a mapping"
    if RULESET_KEY not in doc:
        keys = ", ".join(sorted(str(k) for k in doc)[:5])
        return f"no top-level `ruleset:` key (top-level keys: {keys})"
    if not any(k in doc for k in RULESET_BODY_KEYS):
        return (
            "it names a ruleset but has none of `rules:`, `extends:`, `profile:`"
            " (a chat state file for explain/replay?)"
        )
    return None


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
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(Diagnostic(str(path), 0, 0, f"cannot read the file: {exc}"))
            continue
        reason = not_a_ruleset(text)
        if reason is None:
            found.sources[str(path)] = text
        else:
            found.skipped.append(Skipped(path, reason))
    if errors:
        raise RulesetError(errors)
    return found


def read_sources(directory: Path) -> dict[str, str]:
    """The texts of the directory's rulesets; RulesetError when there are none."""
    found = scan(directory)
    if not found.sources:
        raise RulesetError(
            [
                Diagnostic(
                    str(directory),
                    0,
                    0,
                    "no ruleset files in the directory (a ruleset is a .yaml file with"
                    " `ruleset:` and `rules:`, `extends:` or `profile:`)",
                    hint="start from a shipped one: `extends: hobby` needs no copy of hobby.yaml",
                )
            ]
        )
    return found.sources


@functools.cache
def shipped_sources() -> Mapping[str, str]:
    """The shipped rulesets' texts, read once: the parents ``extends`` may borrow."""
    directory = shipped_dir()
    if not directory.is_dir():
        return MappingProxyType({})
    return MappingProxyType(dict(scan(directory).sources))


def compile_dir_sources(sources: Mapping[str, str]) -> RulesetIndex:
    """Compile a directory's sources, with the shipped rulesets as fallback parents."""
    return compile_sources(sources, shipped=shipped_sources())


def load(directory: Path) -> RulesetIndex:
    """Read and compile every ruleset in the directory; RulesetError lists every problem."""
    return compile_dir_sources(read_sources(directory))
