"""Bad configs: every problem reported at once, each as file:line:column: path: message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.drivers.api import Registry
from releasegate.errors import ConfigError

Write = Callable[[str], Path]


def problems(path: Path, registry: Registry) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalog=registry)
    return [str(p) for p in caught.value.problems]


def test_a_misspelt_day_is_located_and_a_day_is_suggested(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\nenvironments:\n  production:\n    window:\n      days: [mon, tusday]\n"
    )
    assert problems(path, registry) == [
        f"{path}:5:19: environments.production.window.days[1]: 'tusday' is not a day "
        "(did you mean 'tuesday'?)"
    ]


def test_unknown_keys_suggest_the_closest_key(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  production:\n"
        "    gatse: []\n"
        "    deploy:\n"
        "      - id: release\n"
        "        uses: target\n"
        "        timout: 5m\n"
        "    target: {uses: local, with: {app: .}}\n"  # the last key of production
    )
    assert problems(path, registry) == [
        f"{path}:4:5: environments.production: unknown key 'gatse' (did you mean 'gates'?)",
        f"{path}:8:9: environments.production.deploy[0]: unknown key 'timout' (did you mean 'timeout'?)",
    ]


def test_enum_values_suggest_the_closest_value(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "incidents: {freeze_at: hihg}\n"
        "environments:\n"
        "  production:\n"
        "    approvals: {kinds: [normal, majr]}\n"
        "    deploy:\n"
        "      - {id: release, uses: target, on_failure: rollbak}\n"
        "    target: {uses: local, with: {app: .}}\n"  # the last key of production
    )
    assert problems(path, registry) == [
        f"{path}:2:24: incidents.freeze_at: 'hihg' is not one of low, medium, high, critical "
        "(did you mean 'high'?)",
        f"{path}:5:33: environments.production.approvals.kinds[1]: 'majr' is not one of normal, "
        "major, hotfix, rollback (did you mean 'major'?)",
        f"{path}:7:49: environments.production.deploy[0].on_failure: 'rollbak' is not one of stop, "
        "rollback, warn (did you mean 'rollback'?)",
    ]


def test_missing_keys_and_wrong_types(write: Write, registry: Registry) -> None:
    path = write(
        "environments:\n"
        "  production:\n"
        "    concurrency: many\n"
        "    deploy:\n"
        "      - {uses: target, retries: -1, timeout: soon}\n"
        "    target: {uses: local, with: {app: .}}\n"  # the last key of production
    )
    assert problems(path, registry) == [
        f"{path}:1:1: missing required key 'project'",
        f"{path}:3:18: environments.production.concurrency: expected a whole number, not 'many'",
        f"{path}:5:9: environments.production.deploy[0]: missing required key 'id'",
        f"{path}:5:33: environments.production.deploy[0].retries: -1 must be greater than or equal to 0",
        f"{path}:5:46: environments.production.deploy[0].timeout: 'soon' is not a duration "
        "(write e.g. 30s, 5m, 2h, 1d)",
    ]


def test_a_value_that_fits_no_member_of_a_union(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "calendars:\n"
        "  launch: {dates: [2025-02-30, {from: 2025-03-10, to: 2025-03-01}]}\n"
        "environments:\n"
        "  production: {window: 42}\n"
    )
    assert problems(path, registry) == [
        f"{path}:3:20: calendars.launch.dates[0]: '2025-02-30' is not a date (write YYYY-MM-DD)",
        f"{path}:3:32: calendars.launch.dates[1]: ends (2025-03-01) before it starts (2025-03-10)",
        f"{path}:5:24: environments.production.window: expected a mapping or a list, not 42",
    ]


def test_drivers_and_their_options_are_checked(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  production:\n"
        "    target: {uses: locl}\n"
        "    gates:\n"
        "      - {id: unit, uses: comand}\n"
        "      - {id: lint, uses: command, with: {rnu: [ruff]}}\n"
        "      - {id: health, uses: http-check, with: {paths: /health, expect_status: ok}}\n"
        "    deploy:\n"
        "      - {id: release, uses: target}\n"
    )
    assert problems(path, registry) == [
        f"{path}:4:20: environments.production.target.uses: unknown target driver 'locl' "
        "(did you mean 'local'?)",
        f"{path}:6:26: environments.production.gates[0].uses: unknown step driver 'comand' "
        "(did you mean 'command'?)",
        f"{path}:7:41: environments.production.gates[1].with: missing required key 'run'",
        f"{path}:7:42: environments.production.gates[1].with: unknown key 'rnu' (did you mean 'run'?)",
        f"{path}:8:54: environments.production.gates[2].with.paths: expected a list, not '/health'",
        f"{path}:8:78: environments.production.gates[2].with.expect_status: expected a whole number, "
        "not 'ok'",
    ]


def test_an_unknown_driver_lists_the_known_ones_when_nothing_is_close(
    write: Write, registry: Registry
) -> None:
    path = write("project: shop\nenvironments:\n  production:\n    gates: [{id: zap, uses: zzz}]\n")
    assert problems(path, registry) == [
        f"{path}:4:29: environments.production.gates[0].uses: unknown step driver 'zzz' "
        "(known: command, http-check)"
    ]
    assert problems(path, Registry()) == [
        f"{path}:4:29: environments.production.gates[0].uses: unknown step driver 'zzz' "
        "(no step drivers are installed)"
    ]


def test_needs_duplicates_and_cycles(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  production:\n"
        "    gates:\n"
        "      - {id: build, uses: command, with: {run: [make]}, needs: [tset]}\n"
        "      - {id: test, uses: command, with: {run: [make, test]}, needs: lint}\n"
        "      - {id: lint, uses: command, with: {run: [make, lint]}, needs: [test]}\n"
        "    rollback:\n"
        "      steps:\n"
        "        - {id: build, uses: command, with: {run: [echo]}}\n"
    )
    assert problems(path, registry) == [
        f"{path}:5:65: environments.production.gates[0].needs[0]: 'tset' is no step of "
        "environment 'production' (did you mean 'test'?)",
        f"{path}:6:69: environments.production.gates[1].needs: steps need each other in a cycle: "
        "test -> lint -> test",
        f"{path}:10:16: environments.production.rollback.steps[0].id: duplicate step id 'build' "
        "(also at environments.production.gates[0]): ids are unique within an environment",
    ]


def test_promotion_freezes_and_windows_are_cross_checked(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "calendars:\n"
        "  india: {tz: Asia/Kolkatta}\n"
        "environments:\n"
        "  staging: {promote_from: staging}\n"
        "  production:\n"
        "    promote_from: stagin\n"
        "    freezes: [inida, incidents, campains]\n"
        "    window:\n"
        "      - {days: weekdays, hours: ['09:00-12:00', '18:00-09:00'], tz: Europe/Londn}\n"
        "      - {hours: ['09:00-12:00', '11:00-13:00']}\n"
    )
    assert problems(path, registry) == [
        f"{path}:3:15: calendars.india.tz: 'Asia/Kolkatta' is not a known IANA time zone "
        "(did you mean 'Asia/Kolkata'?)",
        f"{path}:5:27: environments.staging.promote_from: an environment cannot promote from itself",
        f"{path}:7:19: environments.production.promote_from: 'stagin' is no environment "
        "(did you mean 'staging'?)",
        f"{path}:8:15: environments.production.freezes[0]: 'inida' is neither a calendar nor a "
        "built-in freeze (incidents, campaigns) (did you mean 'india'?)",
        f"{path}:8:33: environments.production.freezes[2]: 'campains' is neither a calendar nor a "
        "built-in freeze (incidents, campaigns) (did you mean 'campaigns'?)",
        f"{path}:10:49: environments.production.window[0].hours[1]: '18:00-09:00' ends before it "
        "starts (split a range across midnight into two days)",
        f"{path}:10:69: environments.production.window[0].tz: 'Europe/Londn' is not a known IANA "
        "time zone (did you mean 'Europe/London'?)",
        f"{path}:11:17: environments.production.window[1].hours: hour ranges overlap: "
        "09:00-12:00 and 11:00-...",
    ]


def test_holiday_calendars_are_checked_against_the_holidays_package(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "calendars:\n"
        "  india: {holidays: {country: IN, subdiv: XX, categories: [public, optinal]}}\n"
        "  nowhere: {holidays: {country: QQ}}\n"
        "environments: {}\n"
    )
    assert problems(path, registry) == [
        f"{path}:3:43: calendars.india.holidays.subdiv: 'XX' is not a subdivision of IN",
        f"{path}:3:68: calendars.india.holidays.categories[1]: 'optinal' is not a holiday category "
        "of IN (known: government, optional, optional_women, public) (did you mean 'optional'?)",
        f"{path}:4:33: calendars.nowhere.holidays.country: 'QQ' is not a country the holidays "
        "package knows",
    ]


def test_if_expressions_and_secret_references_are_checked(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "notify: [{url: '${env:SLACK URL}'}]\n"
        "environments:\n"
        "  production:\n"
        "    deploy:\n"
        '      - {id: a, uses: target, if: "kind =="}\n'
        "      - {id: b, uses: target, if: \"__import__('os')\"}\n"
        "      - {id: c, uses: command, with: {run: ['${vault:x}', '${env:OK}', '${file:x']}}\n"
        "    target: {uses: local, with: {app: .}}\n"  # the last key of production
    )
    assert problems(path, registry) == [
        f"{path}:2:16: notify[0].url: '${{env:SLACK URL}}' does not name an environment variable "
        "(write ${env:NAME} or ${file:PATH}, or $${ for a literal ${ such as a shell variable)",
        f"{path}:6:35: environments.production.deploy[0].if: 'kind ==' is not a valid expression "
        "(invalid syntax)",
        f"{path}:7:35: environments.production.deploy[1].if: the only call allowed is "
        "changed('glob') with one quoted pattern",
        f"{path}:8:45: environments.production.deploy[2].with.run[0]: '${{vault:x}}' is not a secret "
        "reference (write ${env:NAME} or ${file:PATH}, or $${ for a literal ${ such as a shell variable)",
        f"{path}:8:72: environments.production.deploy[2].with.run[2]: unterminated secret "
        "reference in '${file:x' (write ${env:NAME} or ${file:PATH}, or $${ for a literal ${ such as a shell variable)",
    ]


def test_every_problem_of_a_file_is_reported_in_file_order(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  staging:\n"
        "    window: {days: [mun]}\n"
        "  production:\n"
        "    oops: 1\n"
        "    freezes: nope\n"
    )
    found = problems(path, registry)
    assert [p.split(": ")[0] for p in found] == [f"{path}:4:21", f"{path}:6:5", f"{path}:7:14"]
