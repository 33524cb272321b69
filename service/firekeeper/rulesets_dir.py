"""Reading ruleset files from a directory (the I/O half of loading rulesets).

The pure compiler (``firekeeper.rules.compiler.compile_sources``) gets the file
texts; this module only finds and reads them: at most the size limit of each
file, decoded with every invalid UTF-8 sequence reported at its line and column.
"""

from __future__ import annotations

from pathlib import Path

from firekeeper.errors import Diagnostic, RulesetError
from firekeeper.rules.compiler import LIMITS, RulesetIndex, compile_sources
from firekeeper.rules.source import decode

RULESET_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = ("_test.yaml", "_test.yml")


def default_dir() -> Path:
    """``./rulesets`` when it exists, else the rulesets shipped beside the package."""
    here = Path.cwd() / "rulesets"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "rulesets"  # service/firekeeper/ -> repo root


def ruleset_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.name.endswith(RULESET_SUFFIXES) and not p.name.endswith(TEST_SUFFIXES)
    )


def read_sources(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        raise RulesetError(
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
    files = ruleset_files(directory)
    if not files:
        raise RulesetError(
            [
                Diagnostic(
                    str(directory),
                    0,
                    0,
                    "no ruleset files (*.yaml) in the directory",
                    hint="copy rulesets/base.yaml from the repository to start",
                )
            ]
        )
    out: dict[str, str] = {}
    errors: list[Diagnostic] = []
    for path in files:
        try:
            with path.open("rb") as f:  # never more than the size limit and one byte
                data = f.read(LIMITS.file_bytes + 1)
        except OSError as exc:
            errors.append(Diagnostic(str(path), 0, 0, f"cannot read the file: {exc}"))
            continue
        text, found = decode(str(path), data, LIMITS)
        errors += found
        if text is not None:
            out[str(path)] = text
    if errors:
        raise RulesetError(errors)
    return out


def load(directory: Path) -> RulesetIndex:
    """Read and compile every ruleset in the directory; RulesetError lists every problem."""
    return compile_sources(read_sources(directory))
