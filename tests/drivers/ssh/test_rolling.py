"""The ssh target against real hosts: sshd on 127.0.0.2, .3, .4 (own host keys, checked
known_hosts), the local target's supervisor on each, HAProxy in front, an open-loop client
through it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.drivers.ssh.conftest import deployer
from tests.support.haproxy import RunningHaproxy, running_haproxy
from tests.support.sshd import Fleet, fleet, wait_until

from releasegate.drivers.api import Release
from releasegate.drivers.targets.ssh import SshTarget
from releasegate.drivers.targets.ssh_options import SshOptions
from releasegate.testing import make_context

ROOT = Path(__file__).resolve().parents[3]
LOADGEN = ROOT / "benchmarks" / "loadgen.py"


# the per-host smoke command: the host at {address}:{port} must serve {version}
SMOKE = (
    "import json, sys, urllib.request; "
    "body = urllib.request.urlopen('http://{address}:{port}/monitoring/version').read(); "
    "sys.exit(0 if json.loads(body)['version'] == '{version}' else 1)"
)


def _versions(group: Fleet) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for host in group.hosts:
        try:
            url = f"http://{host.address}:{group.app_port}/monitoring/version"
            found[host.name] = httpx.get(url, timeout=5).json()["version"]
        except httpx.HTTPError:
            found[host.name] = None
    return found


def _hosts(evidence: object) -> dict[str, dict[str, object]]:
    assert isinstance(evidence, list)
    return {h["host"]: h for h in evidence}


def test_rolling_deploy_of_three_behind_haproxy_fails_no_request(
    workdir: Path, tmp_path: Path
) -> None:
    with fleet(tmp_path / "fleet", 3) as group:
        first, _ = deployer(workdir, group.options())
        assert first("1.0.0").ok
        servers = [(h.name, h.address, group.app_port) for h in group.hosts]
        with running_haproxy(servers, tmp_path) as lb:
            raw = group.options(balancer={"uses": "haproxy", "with": lb.options()})
            deploy, rollback = deployer(workdir, raw)
            out = tmp_path / "load.json"
            load = subprocess.Popen(
                [sys.executable, str(LOADGEN), "--url", lb.url + "/monitoring/version",
                 "--rate", "200", "--duration", "120", "--out", str(out)],
                stdout=subprocess.DEVNULL,
            )
            try:
                time.sleep(1.0)  # the client is sending before the roll starts
                states: list[dict[str, str]] = []
                result = deploy("2.0.0", progress=lambda _line: states.append(lb.states()))
                assert result.ok, result.summary
                back = rollback("1.0.0")
                assert back.ok, back.summary
            finally:
                load.send_signal(2)
                load.wait(timeout=60)
            summary = json.loads(out.read_text())["summary"]
            assert summary["failed"] == 0, summary
            assert summary["requests"] >= 1000
            assert set(summary["versions"]) == {"1.0.0", "2.0.0"}
            assert lb.states() == {"web1": "UP", "web2": "UP", "web3": "UP"}
        # while a host was being swapped, it alone was drained
        assert {"web1": "DRAIN", "web2": "UP", "web3": "UP"} in states
    assert result.summary == "deployed 2.0.0 on 3 of 3 hosts"
    hosts = _hosts(result.evidence["hosts"])
    assert [hosts[n]["batch"] for n in ("web1", "web2", "web3")] == [1, 2, 3]
    for host in hosts.values():
        assert host["status"] == "switched"
        assert host["previous"] == "1.0.0"
        assert host["drained"] is True
        assert isinstance(host["swap_s"], float)
        assert host["swap_s"] > 0
        assert host["shipped"] == "rsync"
    assert back.summary == "rolled back to 1.0.0 on 3 of 3 hosts"
    assert all(h["shipped"] == "already there" for h in _hosts(back.evidence["hosts"]).values())


def test_a_host_killed_mid_roll_rolls_back_the_switched_hosts_newest_first(
    workdir: Path, tmp_path: Path
) -> None:
    with fleet(tmp_path / "fleet", 3) as group:
        deploy, _ = deployer(workdir, group.options())
        assert deploy("1.0.0").ok

        def kill_web3_after_web2(line: str) -> None:
            if line.startswith("web2: 2.0.0 is live"):
                group.hosts[2].kill()

        result = deploy("2.0.0", progress=kill_web3_after_web2)
        assert not result.ok
        assert _versions(group) == {"web1": "1.0.0", "web2": "1.0.0", "web3": None}
    assert result.evidence["rolled_back"] == ["web2", "web1"]
    assert result.evidence["failed_hosts"] == ["web3"]
    assert result.summary.startswith(
        "deploy of 2.0.0 stopped: 1 of 3 hosts failed (max_failed_hosts 0); web3 at swap: "
        f"root@127.0.0.4:{group.hosts[2].ssh_port}: ssh failed: "
    )
    assert result.summary.endswith("; rolled back web2, web1 (newest first)")
    hosts = _hosts(result.evidence["hosts"])
    assert (hosts["web1"]["status"], hosts["web1"]["rolled_back_to"]) == ("rolled back", "1.0.0")
    assert hosts["web3"]["status"] == "failed"


def test_max_failed_hosts_lets_the_roll_go_on_past_a_dead_host(
    workdir: Path, tmp_path: Path
) -> None:
    with fleet(tmp_path / "fleet", 3) as group:
        smoke = [sys.executable, "-c", SMOKE]
        deploy, _ = deployer(
            workdir, group.options(max_failed_hosts=1, batch=2, transfer="scp", smoke=smoke)
        )
        assert deploy("1.0.0").ok
        group.hosts[1].kill()
        result = deploy("2.0.0")
        assert result.ok, result.summary
        assert _versions(group) == {"web1": "2.0.0", "web2": None, "web3": "2.0.0"}
        raw = group.options()
        ctx = make_context(release=Release("production", "x"), workdir=workdir)
        versions = asyncio.run(SshTarget().versions(SshOptions.model_validate(raw), ctx))
        assert versions == {"web1": "2.0.0", "web2": None, "web3": "2.0.0"}
        assert asyncio.run(SshTarget().current(SshOptions.model_validate(raw), ctx)) is None
        group.hosts[1].start()  # back up: deploying again switches only the host left behind
        again = deploy("2.0.0")
        assert again.summary == "deployed 2.0.0 on 3 of 3 hosts (2 already served it)"
        assert _versions(group) == {"web1": "2.0.0", "web2": "2.0.0", "web3": "2.0.0"}
        assert [h["status"] for h in _hosts(again.evidence["hosts"]).values()] == [
            "unchanged", "switched", "unchanged",
        ]
    assert result.summary.startswith(
        "deployed 2.0.0 on 2 of 3 hosts; 1 failed (max_failed_hosts 1): web2: "
        f"root@127.0.0.3:{group.hosts[1].ssh_port}: ssh failed: ssh: connect to host 127.0.0.3 "
    )
    hosts = _hosts(result.evidence["hosts"])
    assert (hosts["web2"]["status"], hosts["web2"]["stage"]) == ("failed", "ship")
    assert hosts["web1"]["shipped"] == hosts["web3"]["shipped"] == "scp"
    assert hosts["web1"]["batch"] == hosts["web3"]["batch"] == 1  # the dead host left out


def test_a_host_whose_key_changed_is_refused_before_anything_is_switched(
    workdir: Path, tmp_path: Path
) -> None:
    with fleet(tmp_path / "fleet", 3) as group:
        deploy, _ = deployer(workdir, group.options())
        assert deploy("1.0.0").ok
        group.hosts[1].rekey()
        result = deploy("2.0.0")
        assert not result.ok
        assert _versions(group) == {"web1": "1.0.0", "web2": "1.0.0", "web3": "1.0.0"}
        port = group.hosts[1].ssh_port
        # a host missing from known_hosts is refused as well (never trusted on first use)
        kept = [ln for ln in group.known_hosts.read_text().splitlines() if "127.0.0.3" not in ln]
        group.known_hosts.write_text("\n".join(kept) + "\n")
        unknown = deploy("2.0.0")
        assert not unknown.ok
        assert _versions(group) == {"web1": "1.0.0", "web2": "1.0.0", "web3": "1.0.0"}
    assert unknown.evidence["failed_hosts"] == ["web2"]
    assert unknown.summary.endswith(
        f"web2 at ship: root@127.0.0.3:{port}: its host key is not in known_hosts; refused. "
        "Add it after checking its fingerprint (ssh-keyscan)"
    )
    assert result.summary == (
        "deploy of 2.0.0 could not ship to enough hosts; no host was switched: 1 of 3 hosts "
        f"failed (max_failed_hosts 0); web2 at ship: root@127.0.0.3:{port}: its host "
        "key differs from the one in known_hosts (a reinstalled host, or someone in between); "
        "refused. Check the new key and replace the old one in known_hosts"
    )


def test_a_host_whose_disk_refuses_the_artifact_fails_cleanly(
    workdir: Path, tmp_path: Path
) -> None:
    (workdir / "versions" / "1.0.0" / "padding.bin").write_bytes(b"x" * 300_000)
    with fleet(tmp_path / "fleet", 2) as group:
        full = group.hosts[1].dir
        full.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(full)],
                                 capture_output=True, timeout=30)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
        try:
            deploy, _ = deployer(workdir, group.options())
            result = deploy("1.0.0")
            assert not result.ok
            assert _versions(group) == {"web1": None, "web2": None}
            assert list((full / "incoming").iterdir()) == []  # the part shipped was removed
        finally:
            subprocess.run(["umount", "-l", str(full)], check=True, timeout=30)
    assert result.summary.startswith(
        "deploy of 1.0.0 could not ship to enough hosts; no host was switched: 1 of 2 hosts "
        "failed (max_failed_hosts 0); web2 at ship: rsync of the artifact to "
    )
    # rsync relays the host's "No space left on device"; when the receiver's connection ends
    # first, only its exit code says what happened
    assert "No space left on device" in result.summary or "full disk" in result.summary, result.summary
    hosts = _hosts(result.evidence["hosts"])
    assert hosts["web1"]["status"] == "shipped"


def test_a_version_failing_its_health_check_leaves_every_host_on_the_old_one(
    workdir: Path, tmp_path: Path
) -> None:
    with fleet(tmp_path / "fleet", 2) as group:
        deploy, _ = deployer(workdir, group.options(app={"health_timeout": "3s"}))
        assert deploy("1.0.0").ok
        result = deploy("bad")
        assert not result.ok
        assert _versions(group) == {"web1": "1.0.0", "web2": "1.0.0"}
    assert "web1 at swap: version bad failed its health check and was not swapped in" in (
        result.summary
    )
    assert _hosts(result.evidence["hosts"])["web2"]["status"] == "not reached"
    assert result.evidence["rolled_back"] == []


def test_a_drained_host_is_swapped_only_once_its_requests_in_flight_are_done(
    workdir: Path, tmp_path: Path
) -> None:
    with fleet(tmp_path / "fleet", 2) as group:
        first, _ = deployer(workdir, group.options())
        assert first("1.0.0").ok
        servers = [(h.name, h.address, group.app_port) for h in group.hosts]
        with running_haproxy(servers, tmp_path) as lb:
            deploy, _ = deployer(
                workdir, group.options(balancer={"uses": "haproxy", "with": lb.options()})
            )
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                # round robin: one request on each host, outlasting the artifact's shipping
                slow = [pool.submit(httpx.get, lb.url + "/slow?s=10", timeout=30) for _ in range(2)]
                wait_until(lambda: sum(int(r["scur"]) for r in _stat(lb)) == 2, timeout=10,
                           what="both slow requests did not reach a server")
                result = deploy("2.0.0")
                answers = [f.result() for f in slow]
    assert result.ok, result.summary
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["version"] for a in answers) == ["1.0.0", "1.0.0"]
    hosts = _hosts(result.evidence["hosts"])
    assert hosts["web1"]["drained"] is True
    assert 1.0 < float(hosts["web1"]["drain_wait_s"]) < 10  # type: ignore[arg-type]


def _stat(lb: RunningHaproxy) -> list[dict[str, str]]:
    lines = lb.ask("show stat").lstrip("# ").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return [r for r in rows if r["pxname"] == "app" and r["svname"] not in ("FRONTEND", "BACKEND")]
