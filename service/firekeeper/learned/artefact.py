"""The spam model's file: read it, write it, and the one that ships with Firekeeper.

The shipped model is package data (``firekeeper/learned/spam_model.json``), so
the wheel carries it; ``firekeeper train`` rebuilds it. The service reads it once
at start (or the file ``FIREKEEPER_SPAM_MODEL`` names; ``off``: no model, and
``message.spam_score`` is absent) and hands the value to the screening area;
the evaluation core never reads a file.

The file is JSON: the model's settings, its weights (8-bit, zlib, base64), and
its record: ``version``, ``training`` (data digest, rows per source, the split,
the trainer's settings), ``threshold`` and ``held_out`` (figures on rows it was
not trained on), and ``trained_on`` (32-bit hashes of its training texts, so
``firekeeper signals --learned`` can leave those rows out).
"""

from __future__ import annotations

import base64
import functools
import json
import zlib
from collections.abc import Iterable
from pathlib import Path

from firekeeper.errors import FirekeeperError
from firekeeper.rules.spam_model import SpamModel, SpamModelError, from_document, to_document

SHIPPED = Path(__file__).resolve().parent / "spam_model.json"


class SpamModelFileError(FirekeeperError):
    """A spam model file that cannot be read or is not a model; says which file and why."""


def load(path: Path) -> SpamModel:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpamModelFileError(
            f"cannot read the spam model {path}: {exc.strerror or exc}"
        ) from exc
    except ValueError as exc:
        raise SpamModelFileError(f"the spam model {path} is not JSON: {exc}") from exc
    try:
        return from_document(doc)
    except SpamModelError as exc:
        raise SpamModelFileError(
            f"the spam model {path} cannot be used: {exc}; rebuild it with firekeeper train"
        ) from exc


@functools.cache
def shipped() -> SpamModel:
    """The model that ships with Firekeeper (read once per process)."""
    return load(SHIPPED)


def write(model: SpamModel, path: Path) -> int:
    """Write the model file (replacing it whole); its size in bytes."""
    text = json.dumps(to_document(model), ensure_ascii=False, indent=1) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return len(text.encode("utf-8"))


def pack_keys(keys: Iterable[int]) -> str:
    """Sorted unique 32-bit keys, delta-encoded, zlib, base64 (the ``trained_on`` record)."""
    out = bytearray()
    prev = 0
    for k in sorted(set(keys)):
        out += (k - prev).to_bytes(4, "little")
        prev = k
    return base64.b64encode(zlib.compress(bytes(out), 9)).decode("ascii")


def unpack_keys(data: str) -> frozenset[int]:
    try:
        raw = zlib.decompress(base64.b64decode(data.encode("ascii"), validate=True))
    except (ValueError, zlib.error) as exc:
        raise SpamModelFileError(f"trained_on: not a packed key list ({exc})") from exc
    keys, prev = set(), 0
    for i in range(0, len(raw) - len(raw) % 4, 4):
        prev += int.from_bytes(raw[i : i + 4], "little")
        keys.add(prev)
    return frozenset(keys)


def trained_on(model: SpamModel) -> frozenset[int]:
    """The text keys (``samples.text_key``) of the rows the model was trained on."""
    data = model.meta.get("trained_on", "")
    return unpack_keys(data) if isinstance(data, str) and data else frozenset()
