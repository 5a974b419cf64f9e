"""`validate` refuses what a plan could not run: the target outside deploy or without a
target, `needs` across phases, a window that never opens; a broken step has every one of
its problems reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.drivers.api import Registry
from releasegate.errors import ConfigError

Write = Callable[[str], Path]


def problems(path: Path, registry: Registry | None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalog=registry)
    return [str(p) for p in caught.value.problems]


def test_the_target_deploys_only_in_the_deploy_phase_of_an_environment_with_a_target(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  staging:\n"
        "    deploy: [{id: release, uses: target}]\n"
        "  production:\n"
        "    target: {uses: local, with: {app: .}}\n"
        "    gates: [{id: early, uses: target}]\n"
        "    deploy: [{id: release, uses: target}]\n"
        "    post: [{id: again, uses: target}]\n"
        "    rollback: {steps: [{id: back, uses: target}]}\n"
    )
    assert problems(path, registry) == [
        f"{path}:4:34: environments.staging.deploy[0].uses: 'uses: target' deploys with the "
        "environment's target, but environment 'staging' has no 'target'",
        f"{path}:7:31: environments.production.gates[0].uses: 'uses: target' deploys the "
        "version: it belongs in deploy, where a rollback undoes it, not in the gates",
        f"{path}:9:30: environments.production.post[0].uses: 'uses: target' deploys the "
        "version: it belongs in deploy, where a rollback undoes it, not in the post steps",
        f"{path}:10:41: environments.production.rollback.steps[0].uses: 'uses: target' deploys "
        "the version: it belongs in deploy, where a rollback undoes it, not in the rollback steps",
    ]


def test_a_step_needs_only_steps_of_its_own_or_an_earlier_phase(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  production:\n"
        "    gates:\n"
        "      - {id: test, uses: command, with: {run: [t]}, needs: [migrate]}\n"
        "    deploy:\n"
        "      - {id: migrate, uses: command, with: {run: [m]}, needs: [test]}\n"
        "      - {id: smoke, uses: command, with: {run: [s]}, needs: [tag]}\n"
        "    post:\n"
        "      - {id: tag, uses: command, with: {run: [g]}, needs: [migrate, test]}\n"
        "    rollback:\n"
        "      steps:\n"
        "        - {id: tell, uses: command, with: {run: [e]}, needs: [undo]}\n"
        "        - {id: undo, uses: command, with: {run: [u]}, needs: [migrate]}\n"
    )
    assert problems(path, registry) == [
        f"{path}:5:61: environments.production.gates[0].needs[0]: 'migrate' is a deploy step, "
        "which runs after the gates: a step can need only steps of its own or an earlier phase",
        f"{path}:8:62: environments.production.deploy[1].needs[0]: 'tag' is a post step, which "
        "runs after the deploy: a step can need only steps of its own or an earlier phase",
        f"{path}:13:63: environments.production.rollback.steps[0].needs[0]: 'undo' is not a "
        "rollback step written before this one: rollback steps run in the order written and "
        "can need only those",
        f"{path}:14:63: environments.production.rollback.steps[1].needs[0]: 'migrate' is not a "
        "rollback step written before this one: rollback steps run in the order written and "
        "can need only those",
    ]


def test_a_deploy_step_cannot_need_a_gate_the_emergency_fast_track_skips(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "emergency: {gates: [lint]}\n"
        "environments:\n"
        "  production:\n"
        "    gates:\n"
        "      - {id: lint, uses: command, with: {run: [l]}}\n"
        "      - {id: test, uses: command, with: {run: [t]}}\n"
        "    deploy:\n"
        "      - {id: migrate, uses: command, with: {run: [m]}, needs: [lint, test]}\n"
    )
    assert problems(path, registry) == [
        f"{path}:9:70: environments.production.deploy[0].needs[1]: 'test' is a gate the "
        "emergency fast track skips (emergency.gates): an emergency deployment could not be "
        "planned",
    ]


def test_a_window_without_days_or_hours_never_opens(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  production:\n"
        "    window:\n"
        "      - {days: [], hours: ['10:00-12:00']}\n"
        "      - {days: [mon], hours: []}\n"
    )
    assert problems(path, registry) == [
        f"{path}:5:16: environments.production.window[0].days: no days: the window would never open",
        f"{path}:6:30: environments.production.window[1].hours: no hours: the window would "
        "never open",
    ]


def test_every_problem_of_one_broken_step_is_reported(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "environments:\n"
        "  production:\n"
        "    gates:\n"
        "      - id: check\n"
        "        uses: comand\n"
        "        timeout: soon\n"
        "        needs: [nothing]\n"
        "        if: \"kind == 'majr'\"\n"
    )
    assert problems(path, registry) == [
        f"{path}:6:15: environments.production.gates[0].uses: unknown step driver 'comand' "
        "(did you mean 'command'?)",
        f"{path}:7:18: environments.production.gates[0].timeout: 'soon' is not a duration "
        "(write e.g. 30s, 5m, 2h, 1d)",
        f"{path}:8:17: environments.production.gates[0].needs[0]: 'nothing' is no step of "
        "environment 'production'",
        f"{path}:9:13: environments.production.gates[0].if: 'majr' is not a release kind "
        "(did you mean 'major'?) (kinds: normal, major, hotfix, rollback)",
    ]


def test_a_confirmation_for_an_unknown_environment_is_refused(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "environments: {production: {}}\n"
        "confirmations:\n"
        "  - {id: told, text: Told, environments: [producton]}\n"
    )
    assert problems(path, registry) == [
        f"{path}:4:43: confirmations[0].environments[0]: 'producton' is no environment "
        "(did you mean 'production'?)",
    ]


def test_a_long_chain_of_needs_and_a_long_cycle_are_checked_without_recursion(
    write: Write, registry: Registry
) -> None:
    count = 3000  # deeper than Python's recursion limit
    steps = "".join(
        f"      - {{id: s{i}, uses: command, with: {{run: [x]}}, needs: [s{(i + 1) % count}]}}\n"
        for i in range(count)
    )
    path = write(f"project: shop\nenvironments:\n  production:\n    gates:\n{steps}")
    assert problems(path, registry) == [
        f"{path}:5:58: environments.production.gates[0].needs: steps need each other in a "
        "cycle: s0 -> s1 -> s2 -> s3 -> s4 -> ... -> s2998 -> s2999 -> s0 (3000 steps)"
    ]


def test_a_step_cannot_take_the_id_of_a_signature_step(write: Write, registry: Registry) -> None:
    path = write(
        "project: shop\n"
        "confirmations:\n"
        "  - {id: told, text: Told, environments: [production]}\n"
        "  - {id: noted, text: Noted, required: false}\n"
        "environments:\n"
        "  production:\n"
        "    gates:\n"
        "      - {id: sign.told, uses: command, with: {run: [x]}}\n"
        "      - {id: sign.noted, uses: command, with: {run: [x]}}\n"
        "  staging:\n"
        "    gates: [{id: sign.told, uses: command, with: {run: [x]}}]\n"
    )
    assert problems(path, registry) == [
        f"{path}:8:14: environments.production.gates[0].id: 'sign.told' is the id of the step "
        "that waits for the required confirmation 'told': choose another id",
    ]


def test_an_approval_role_nobody_holds_is_refused_once_users_are_listed(
    write: Write, registry: Registry
) -> None:
    path = write(
        "project: shop\n"
        "users: {asha: {roles: [qa]}, bo: {roles: tech-lead}}\n"
        "environments:\n"
        "  production:\n"
        "    approvals: {roles: [qa, tech-led, product-owner]}\n"
    )
    assert problems(path, registry) == [
        f"{path}:5:29: environments.production.approvals.roles[1]: no user holds the role "
        "'tech-led' (users), so no version could ever be approved (did you mean 'tech-lead'?)",
        f"{path}:5:39: environments.production.approvals.roles[2]: no user holds the role "
        "'product-owner' (users), so no version could ever be approved",
    ]
    path.write_text(path.read_text().replace("users: {asha: {roles: [qa]}, bo: {roles: tech-lead}}\n", ""))
    assert load_config(path, catalog=registry).environments["production"].approvals is not None
