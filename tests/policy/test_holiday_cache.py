"""What the holidays package answered is kept on disk: a command that reads a config with a
holiday calendar does not import the package again, and a damaged or unwritable cache
changes no answer."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from releasegate.config import holiday_cache
from releasegate.config.countries import country_codes, holiday_source_problems, holidays_of

PROBE = """
import sys
from releasegate.config.countries import holiday_source_problems, holidays_of
print(holiday_source_problems("IN", None, ("public", "optional")),
      holiday_source_problems("IN", None, ("public", "bank")))
print(sorted(holidays_of("IN", None, "optional", 2026).items()))
print("holidays" in sys.modules)
"""


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    holiday_cache.forget()
    country_codes.cache_clear()
    yield tmp_path
    holiday_cache.forget()
    country_codes.cache_clear()


def _probe(home: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "XDG_CACHE_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_second_command_answers_from_the_cache_without_importing_the_package(cache_home: Path) -> None:
    *first, imported = _probe(cache_home)
    *second, imported_again = _probe(cache_home)
    assert imported == "True"
    assert imported_again == "False"
    assert second == first  # the same problems (one unknown category) and the same holidays
    assert "'bank' is not a holiday category of IN" in first[0]
    assert "Christmas Eve" in first[1]  # an optional holiday of India


def test_the_cache_file_is_named_after_the_installed_version(cache_home: Path) -> None:
    path = holiday_cache.cache_file()
    assert path is not None
    assert path.parent == cache_home / "releasegate"
    assert path.name.startswith(f"holidays-{importlib.metadata.version('holidays')}-")


@pytest.mark.parametrize("damage", [
    "{not json",
    json.dumps(["a", "list"]),
    json.dumps({"codes": "IN", "days:IN::public:2026": {"someday": 3},
                "problems:IN::public,bank": "none"}),
])
def test_a_damaged_cache_is_asked_again_and_rewritten(cache_home: Path, damage: str) -> None:
    path = holiday_cache.cache_file()
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_text(damage)
    holiday_cache.forget()
    assert holidays_of("IN", None, "public", 2026)[date(2026, 1, 26)] == "Republic Day"
    assert "IN" in country_codes()
    assert holiday_source_problems("IN", None, ("public", "bank"))[0][0] == ("categories", 1)
    kept = json.loads(path.read_text())
    assert kept["days:IN::public:2026"]["2026-01-26"] == "Republic Day"
    assert "IN" in kept["codes"]
    assert kept["problems:IN::public,bank"][0][0] == ["categories", 1]


def test_a_cache_that_cannot_be_written_is_no_error(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = cache_home / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    holiday_cache.forget()
    assert holidays_of("US", "CA", "public", 2026)[date(2026, 7, 4)] == "Independence Day"
    assert blocker.read_text() == "not a folder"
