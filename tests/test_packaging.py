"""The package is the product: the wheel (built from the sdist, as ``python -m build`` does) holds
every file the bot reads at run time, and its metadata builds without deprecation warnings.

The installed wheel is exercised end to end by ``tests/smoke_installed.py`` (run by ``.ci/run``).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("build") is None,
    reason="the 'build' package is not installed (pip install -e '.[test]' brings it)",
)

# Everything besides Python code that the bot needs at run time, as it lies in the checkout.
RUN_TIME_DATA = (
    "locales/*/LC_MESSAGES/*.po",
    "db/migrations/*.sql",
    "bot/sandbox/static/*",
    "bot/demo/*.csv",
)


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path
    log: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    [wheel] = out.glob("auylnet-*.whl")
    [sdist] = out.glob("auylnet-*.tar.gz")
    yield Built(wheel, sdist, log)


def checkout_files(pattern: str) -> list[str]:
    return sorted(path.relative_to(REPO).as_posix() for path in REPO.glob(pattern) if path.is_file())


def test_every_catalog_migration_static_file_and_demo_file_is_in_the_wheel(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
    for pattern in RUN_TIME_DATA:
        expected = checkout_files(pattern)
        assert expected, f"nothing in the checkout matches {pattern}"
        missing = [name for name in expected if name not in names]
        assert not missing, f"not in the wheel: {missing}"
    assert "locales/__init__.py" in names and "bot/cli.py" in names and "handlers/__init__.py" in names


def test_the_sdist_can_rebuild_everything(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for pattern in RUN_TIME_DATA:
        missing = [name for name in checkout_files(pattern) if name not in names]
        assert not missing, f"not in the sdist: {missing}"
    assert {"pyproject.toml", "README.md", "LICENSE"} <= names


def test_metadata_license_version_and_command(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        info = next(name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
        metadata = wheel.read(info).decode()
        entry_points = wheel.read(info.replace("METADATA", "entry_points.txt")).decode()
        licenses = [name for name in wheel.namelist() if ".dist-info/licenses/" in name]
    assert "License-Expression: MIT" in metadata.splitlines()
    assert any(line.startswith("Version: ") for line in metadata.splitlines())
    assert licenses == [info.replace("METADATA", "licenses/LICENSE")]
    assert "auylnet = bot.cli:main" in entry_points


def test_the_build_warns_of_nothing(built: Built) -> None:
    warnings = [
        line
        for line in built.log.splitlines()
        if "Deprecat" in line or ("warning" in line.lower() and "byte-compiling is disabled" not in line)
    ]
    # pip's notes about package index folders on this machine are not the build's.
    warnings = [line for line in warnings if "Location 'file:" not in line]
    assert warnings == []
