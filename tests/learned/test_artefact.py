"""The spam model file: the shipped one as package data, and files that cannot be used."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from firekeeper.app import spam_model
from firekeeper.config import Settings
from firekeeper.errors import FirekeeperError
from firekeeper.learned import artefact

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_model_is_small_package_data_with_its_record() -> None:
    assert artefact.SHIPPED.stat().st_size < 300_000
    model = artefact.shipped()
    assert model.version.startswith("1+")
    training = model.meta["training"]
    assert training["digest"].startswith("sha256:") and training["rows"] > 5000
    assert {r["dataset"] for r in model.meta["held_out"]} >= {"qq_group", "kdconv", "tg_spam"}
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["firekeeper"]
    assert "learned/*.json" in package_data
    assert artefact.SHIPPED.parent.name == "learned" and artefact.SHIPPED.suffix == ".json"


def test_a_file_that_is_not_a_model_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(artefact.SpamModelFileError, match="cannot read"):
        artefact.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(artefact.SpamModelFileError, match="not JSON"):
        artefact.load(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "x"}))
    with pytest.raises(artefact.SpamModelFileError, match="firekeeper train"):
        artefact.load(other)


def test_the_service_setting(tmp_path: Path) -> None:
    assert spam_model(Settings(spam_model="off")) is None
    assert spam_model(Settings()) == artefact.shipped()
    copy = tmp_path / "m.json"
    copy.write_bytes(artefact.SHIPPED.read_bytes())
    loaded = spam_model(Settings.from_env({"FIREKEEPER_SPAM_MODEL": str(copy)}))
    assert loaded is not None and loaded.version == artefact.shipped().version
    with pytest.raises(FirekeeperError, match="FIREKEEPER_SPAM_MODEL"):
        spam_model(Settings(spam_model=str(tmp_path / "nope.json")))


def test_written_and_read_back_it_scores_the_same(tmp_path: Path) -> None:
    path = tmp_path / "copy.json"
    artefact.write(artefact.shipped(), path)
    back = artefact.load(path)
    assert back.weights == artefact.shipped().weights
    assert artefact.trained_on(back) == artefact.trained_on(artefact.shipped())
    assert artefact.unpack_keys(artefact.pack_keys([5, 1, 1, 2**32 - 1])) == {1, 5, 2**32 - 1}
