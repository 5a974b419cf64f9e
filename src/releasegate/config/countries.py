"""The countries of the ``holidays`` package, loaded one module at a time.

``holidays.country_holidays("IN")`` imports the package ``holidays.countries``, whose
``__init__`` imports all ~250 country modules (about 60 ms of CPU with a warm bytecode
cache, in holidays 0.109). Here only the module of the country a config names is
imported, by file, under its usual name; the package's registry (``holidays.registry``,
a plain table) says which module and class a code belongs to. If that registry is missing
or changes shape, the public, slower ``holidays.country_holidays`` is used instead. The
codes and each year's holidays, once found, are kept on disk (:mod:`holiday_cache`), so a
command reading a config usually imports no part of the package.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
from datetime import date
from functools import lru_cache
from types import ModuleType
from typing import Any

from releasegate.config import holiday_cache
from releasegate.config.timespec import did_you_mean

_PACKAGE = "holidays.countries"


def _registry() -> dict[str, tuple[str, ...]] | None:
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # a holidays without the registry: the public way below
        return None
    return COUNTRIES if isinstance(COUNTRIES, dict) else None


@lru_cache(maxsize=1)
def country_codes() -> tuple[str, ...]:
    """Every ISO 3166 code (alpha-2, alpha-3, aliases) the holidays package knows (kept
    on disk: :mod:`releasegate.config.holiday_cache`)."""
    kept = holiday_cache.get("codes")
    if isinstance(kept, list) and kept and all(isinstance(code, str) for code in kept):
        return tuple(kept)
    codes = _codes_of_package()
    holiday_cache.put("codes", list(codes))
    return codes


def _codes_of_package() -> tuple[str, ...]:
    registry = _registry()
    if registry is None:
        from holidays import list_supported_countries

        return tuple(sorted(list_supported_countries()))
    return tuple(
        sorted(
            code
            for entry in registry.values()
            for code in entry[1:]
            if isinstance(code, str) and code.isupper() and len(code) in (2, 3)
        )
    )


@lru_cache(maxsize=32)
def country_class(code: str) -> Any:
    """The holidays class of ``code`` (e.g. ``India`` for ``IN``); KeyError if unknown."""
    if code not in country_codes():
        raise KeyError(code)
    module = _country_module(code)
    if module is not None:
        found = getattr(module, code, None)
        if isinstance(found, type):
            return found
    import holidays  # the slow, public way: every country module

    return type(holidays.country_holidays(code))


_IMPORTING = threading.Lock()
"""One import of a country module at a time: a module is in sys.modules before it has run,
and another thread must not take it half-made (the demo's team loads the config while the
story does)."""


def _country_module(code: str) -> ModuleType | None:
    with _IMPORTING:
        return _import_country_module(code)


def _import_country_module(code: str) -> ModuleType | None:
    registry = _registry() or {}
    name = next((f"{_PACKAGE}.{m}" for m, entry in registry.items() if code in entry[1:]), None)
    if name is None:
        return None
    if name in sys.modules:
        return sys.modules[name]
    package = importlib.util.find_spec("holidays")
    roots = package.submodule_search_locations if package else None
    if not roots:
        return None
    # The module's own file, imported by its full name without running the package's
    # __init__ (which would import every other country); a later ``import holidays.countries``
    # finds this module in sys.modules and reuses it.
    spec = importlib.util.spec_from_file_location(
        name, f"{roots[0]}/countries/{name.rsplit('.', 1)[1]}.py"
    )
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def holidays_of(
    country: str, subdiv: str | None, category: str, year: int
) -> dict[date, str]:
    """The holidays of one country (and subdivision) and category in ``year`` (kept on
    disk: :mod:`releasegate.config.holiday_cache`)."""
    import warnings

    key = f"days:{country}:{subdiv or ''}:{category}:{year}"
    kept = holiday_cache.get(key)
    if isinstance(kept, dict):
        with contextlib.suppress(TypeError, ValueError):
            return {date.fromisoformat(day): str(name) for day, name in kept.items()}
    cls = country_class(country)
    with warnings.catch_warnings():  # years outside the package's tables: no holidays, no noise
        warnings.simplefilter("ignore")
        found = cls(subdiv=subdiv, years=year, categories=(category,))
    days = {day: str(name) for day, name in found.items()}
    holiday_cache.put(key, {day.isoformat(): name for day, name in sorted(days.items())})
    return days


Where = tuple[str | int, ...]
"""Where in a holiday source a problem is: ``("country",)``, ``("categories", 1)``."""


def holiday_source_problems(
    country: str, subdiv: str | None, categories: tuple[str, ...]
) -> list[tuple[Where, str]]:
    """What is wrong with a holiday source, as ``(where, message)`` pairs: an unknown
    country, subdivision or category. Only the named country's module is imported, and
    only when a subdivision or a category other than ``public`` is asked for."""
    codes = country_codes()
    if country not in codes:
        hint = did_you_mean(country.upper(), codes)
        return [(("country",), f"{country!r} is not a country the holidays package knows{hint}")]
    if subdiv is None and set(categories) <= {"public"}:
        return []  # every country has public holidays: no need to load its module
    key = f"problems:{country}:{subdiv or ''}:{','.join(categories)}"
    kept = holiday_cache.get(key)
    if isinstance(kept, list) and all(_is_problem(p) for p in kept):
        return [(tuple(where), message) for where, message in kept]
    problems = _source_problems(country, subdiv, categories)
    holiday_cache.put(key, [[list(where), message] for where, message in problems])
    return problems


def _is_problem(kept: object) -> bool:
    return (isinstance(kept, list) and len(kept) == 2 and isinstance(kept[1], str)
            and isinstance(kept[0], list) and all(isinstance(w, str | int) for w in kept[0]))


def _source_problems(
    country: str, subdiv: str | None, categories: tuple[str, ...]
) -> list[tuple[Where, str]]:
    cls = country_class(country)
    problems: list[tuple[Where, str]] = []
    subdivisions = [*cls.subdivisions, *getattr(cls, "subdivisions_aliases", {})]
    if subdiv is not None and subdiv not in subdivisions:
        hint = did_you_mean(subdiv.upper(), list(cls.subdivisions))
        problems.append((("subdiv",), f"{subdiv!r} is not a subdivision of {country}{hint}"))
    known = sorted(cls.supported_categories)
    for i, category in enumerate(categories):
        if category not in known:
            problems.append(
                (
                    ("categories", i),
                    f"{category!r} is not a holiday category of {country} "
                    f"(known: {', '.join(known)}){did_you_mean(category, known)}",
                )
            )
    return problems
