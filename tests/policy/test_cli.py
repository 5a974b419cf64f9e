"""The policy commands end to end: a real config file and a real SQLite store.

Most calls go through the command's entry point in this process (each subprocess costs
over a second of imports); ``test_exit_codes_through_a_real_subprocess`` runs the installed
module as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from releasegate.cli.main import run

CONFIG = """\
project: demo
users:
  alice: {roles: [qa]}
  bob: {roles: [product-owner]}
  carol: {roles: [tech-lead]}
  dave: {roles: [on-call, devops]}
  erin: {roles: [admin]}
calendars:
  india: {holidays: {country: IN, categories: [public]}, tz: Asia/Kolkata}
  peaks: {month_end: {last_days: 2}, quarter_end: {last_days: 5}}
environments:
  staging:
    window: {days: [mon-fri], hours: "09:00-18:00", tz: Asia/Kolkata}
  production:
    approvals: {roles: [qa, product-owner, tech-lead]}
    window: {days: [tue, wed, thu], hours: "10:00-14:00", tz: UTC}
    freezes: [india, peaks, incidents, campaigns]
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.capsys = capsys
        (folder / "releasegate.yaml").write_text(CONFIG, encoding="utf-8")

    def __call__(self, *args: str, user: str = "dave") -> Result:
        self.capsys.readouterr()
        argv = ["-c", str(self.folder / "releasegate.yaml"), "--as", user, *args]
        with pytest.raises(SystemExit) as done:
            run(argv)
        out = self.capsys.readouterr()
        return Result(int(done.value.code or 0), out.out, out.err)

    def subprocess(self, *args: str, user: str = "dave") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "releasegate", "--as", user, *args],
            cwd=self.folder, capture_output=True, text=True, timeout=60, check=False,
        )


@pytest.fixture
def rg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


def test_exit_codes_through_a_real_subprocess(rg: Cli) -> None:
    ok = rg.subprocess("policy", "explain", "production", "--at", "2026-04-21T11:00:00Z")
    assert (ok.returncode, ok.stdout.splitlines()[-1]) == (0, "Allowed now."), ok.stderr
    blocked = rg.subprocess("approve", "production", "1.2.0", "--role", "tech-lead", user="alice")
    assert blocked.returncode == 3
    assert blocked.stderr.strip() == (
        "blocked: alice does not hold the role 'tech-lead' (alice's roles: qa; roles come from "
        "'users' in the config)"
    )


def test_explain_allowed_and_blocked(rg: Cli) -> None:
    ok = rg("policy", "explain", "production", "--at", "2026-04-21T11:00:00Z")
    assert ok.returncode == 0, ok.stderr
    assert "allow    window" in ok.stdout
    assert ok.stdout.rstrip().endswith("Allowed now.")
    friday = rg("policy", "explain", "production", "--at", "2026-11-06T10:30:00+00:00", "--version", "1.2.0")
    assert friday.returncode == 3
    assert "deny     window                  Fri 2026-11-06 10:30 UTC is outside the window Tue-Thu 10:00-14:00 UTC" in friday.stdout
    assert "Next allowed time: 2026-11-10 10:00 UTC (Tue) (still needed: approval:qa, approval:product-owner, approval:tech-lead)" in friday.stdout
    diwali = rg("--json", "policy", "explain", "production", "--at", "2026-11-08T06:00:00Z")
    data = json.loads(diwali.stdout)
    assert diwali.returncode == 3
    reasons = {r["rule"]: r["reason"] for r in data["results"] if not r["allowed"]}
    assert reasons["freeze:india"] == "2026-11-08 is Diwali (IN public holiday)"


def test_bad_at_is_a_usage_error_and_nothing_else_happens(rg: Cli) -> None:
    bad = rg("policy", "explain", "production", "--at", "next tuesday")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: --at: 'next tuesday' is not a time (write ISO 8601, e.g. 2026-11-10T10:00:00Z)"
    )
    unknown = rg("policy", "explain", "producton")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "error: unknown environment 'producton' (did you mean 'production'?) (known: staging, production)"
    )


def test_approve_records_once_and_refuses_bad_approvals(rg: Cli) -> None:
    first = rg("approve", "production", "1.2.0", "--role", "qa", "--note", "all green", user="alice")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "approval 1: alice approved 1.2.0 for production as qa; still needed: product-owner, tech-lead"
    )
    again = rg("approve", "production", "1.2.0", "--role", "qa", user="alice")
    assert again.returncode == 3
    assert again.stderr.startswith("blocked: alice already approved 1.2.0 for production as qa at ")
    # --as cannot make anyone a tech lead: mallory has no roles at all
    nobody = rg("approve", "production", "1.2.0", "--role", "tech-lead", user="mallory")
    assert nobody.returncode == 3
    assert "mallory may not approve" in nobody.stderr
    assert "mallory is not listed in users" in nobody.stderr
    for user, role in (("bob", "product-owner"), ("carol", "tech-lead")):
        assert rg("approve", "production", "1.2.0", "--role", role, user=user).returncode == 0
    tuesday = rg("policy", "explain", "production", "--at", "2026-04-21T11:00:00Z", "--version", "1.2.0")
    assert tuesday.returncode == 0, tuesday.stdout
    assert "allow    approval:qa" in tuesday.stdout


def test_incident_opens_with_the_matrix_action_freezes_and_closes(rg: Cli) -> None:
    opened = rg("incident", "open", "payments failing", "--severity", "high", "--impact", "60%")
    assert opened.returncode == 0, opened.stderr
    lines = opened.stdout.splitlines()
    assert lines[0] == "incident 1 opened: payments failing"
    assert lines[1].startswith("action: quick rollback within 15m (deadline ")
    assert lines[2] == "deployments to production are frozen until it is closed"
    blocked = rg("policy", "explain", "production", "--at", "2030-04-23T11:00:00Z")
    assert blocked.returncode == 3
    assert "deny     freeze:incidents" in blocked.stdout
    assert "No allowed time while an incident is open" in blocked.stdout
    listed = rg("incident", "list")
    assert "payments failing" in listed.stdout
    assert "quick rollback" in listed.stdout
    assert rg("incident", "close", "1", "--note", "fixed").returncode == 0
    assert rg("policy", "explain", "production", "--at", "2030-04-23T11:00:00Z").returncode == 0
    bad = rg("incident", "open", "x", "--severity", "hgh")
    assert (bad.returncode, bad.stderr.strip()) == (
        2, "error: --severity: 'hgh' is not a severity (use low, medium, high, critical) (did you mean 'high'?)"
    )


def test_freeze_and_campaign_commands(rg: Cli) -> None:
    added = rg("freeze", "add", "--env", "production", "--from", "2026-04-21T00:00Z",
               "--to", "2026-04-23T00:00Z", "--reason", "db migration", "--hard")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == (
        "hard freeze 1: production from 2026-04-21 00:00 UTC (Tue) to 2026-04-23 00:00 UTC (Thu): db migration"
    )
    frozen = rg("policy", "explain", "production", "--at", "2026-04-21T11:00:00Z")
    assert frozen.returncode == 3
    assert "Next allowed time: 2026-04-23 10:00 UTC (Thu)" in frozen.stdout
    assert "HARD  db migration" in rg("freeze", "list").stdout
    # a hard freeze is lifted by an admin only
    refused = rg("freeze", "remove", "1")
    assert (refused.returncode, refused.stderr.strip()) == (
        3, "blocked: dave may not freeze.remove-hard: it needs the role admin (the default); dave holds devops, on-call"
    )
    assert rg("freeze", "remove", "1", user="erin").returncode == 0
    assert rg("freeze", "list").stdout.strip() == "no freezes"
    inverted = rg("freeze", "add", "--env", "production", "--from", "2026-04-16", "--to", "2026-04-14",
                  "--reason", "x")
    assert (inverted.returncode, inverted.stderr.strip()) == (
        2, "error: --to: 2026-04-14 00:00 UTC (Tue) is not after --from 2026-04-16 00:00 UTC (Thu)"
    )
    campaign = rg("campaign", "add", "Spring sale", "--at", "2026-04-22T14:00Z")
    assert campaign.returncode == 0, campaign.stderr
    near = rg("policy", "explain", "production", "--at", "2026-04-22T12:01:00Z")
    assert near.returncode == 3
    assert "deny     freeze:campaigns" in near.stdout
    assert rg("policy", "explain", "production", "--at", "2026-04-22T11:59:00Z").returncode == 0
    assert "Spring sale" in rg("campaign", "list").stdout
