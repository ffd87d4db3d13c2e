"""The installed distribution: its name, one version, license and classifiers."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

import candor

REPO = Path(__file__).resolve().parents[3]


def test_version_comes_from_the_distribution() -> None:
    assert candor.__version__ == metadata.version("candor-client")
    assert re.fullmatch(r"\d+\.\d+\.\d+", candor.__version__)


def test_version_is_the_projects() -> None:
    cmake = REPO / "CMakeLists.txt"
    if not cmake.is_file():
        pytest.skip("not run from the candor repository")
    found = re.search(r"project\(candor\s+VERSION\s+(\d+\.\d+\.\d+)", cmake.read_text())
    assert found, "the top-level project() names no VERSION"
    assert candor.__version__ == found.group(1)


def test_the_import_name_belongs_to_candor_client() -> None:
    # `candor` on the package index is an unrelated project.
    assert "candor" in metadata.packages_distributions()
    assert metadata.packages_distributions()["candor"] == ["candor-client"]


def test_license_and_classifiers() -> None:
    md = metadata.metadata("candor-client")
    assert md["License-Expression"] == "Apache-2.0"
    dist = metadata.distribution("candor-client")
    licenses = [f for f in dist.files or () if f.name == "LICENSE"]
    assert licenses, "LICENSE is not in the distribution"
    assert "Apache License" in licenses[0].read_text() and "Version 2.0" in licenses[0].read_text()
    classifiers = md.get_all("Classifier") or []
    assert "Framework :: AsyncIO" in classifiers and "Typing :: Typed" in classifiers
