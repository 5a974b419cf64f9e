"""The ssh target's options: batches, host-key safety, the app's options, the agent's checks."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from releasegate.drivers.targets import ssh_agent, ssh_artifact
from releasegate.drivers.targets.ssh_options import SshOptions, batches, parse_batch


@pytest.mark.parametrize(
    ("value", "hosts", "size"),
    [(1, 9, 1), (3, 9, 3), ("3", 9, 3), ("25%", 9, 3), ("25%", 3, 1), ("100%", 9, 9), (20, 3, 3)],
)
def test_batch_sizes(value: int | str, hosts: int, size: int) -> None:
    assert parse_batch(value, hosts) == size


@pytest.mark.parametrize("value", [0, "0%", "150%", "half", "-1"])
def test_a_bad_batch_says_how_to_write_one(value: int | str) -> None:
    with pytest.raises(ValidationError, match="batch"):
        SshOptions.model_validate({"hosts": ["a"], "batch": value})


def test_hosts_are_cut_in_order() -> None:
    opts = SshOptions.model_validate({"hosts": [f"web{i}" for i in range(1, 10)], "batch": "25%"})
    assert [[h.name for h in b] for b in batches(opts.hosts, opts.batch, lambda h: h.group)] == [
        ["web1", "web2", "web3"], ["web4", "web5", "web6"], ["web7", "web8", "web9"],
    ]


def test_groups_roll_one_after_another_and_a_batch_stays_in_its_group() -> None:
    hosts = [{"host": f"eu{i}", "group": "eu"} for i in (1, 2, 3)]
    hosts[1:1] = [{"host": "us1", "group": "us"}, {"host": "us2", "group": "us"}]
    opts = SshOptions.model_validate({"hosts": hosts, "batch": "50%"})
    assert [[h.name for h in b] for b in batches(opts.hosts, opts.batch, lambda h: h.group)] == [
        ["eu1", "eu2"], ["eu3"], ["us1"], ["us2"],
    ]


@pytest.mark.parametrize(
    "option", ["StrictHostKeyChecking=no", "stricthostkeychecking accept-new",
               "UserKnownHostsFile=/dev/null"],
)
def test_options_that_switch_host_key_checking_off_are_refused(option: str) -> None:
    with pytest.raises(ValidationError, match="would switch off host-key checking"):
        SshOptions.model_validate({"hosts": ["a"], "ssh_options": [option]})


def test_app_options_are_the_local_targets_and_checked_when_loaded() -> None:
    with pytest.raises(ValidationError, match="state_dir are set by the ssh target"):
        SshOptions.model_validate({"hosts": ["a"], "app": {"state_dir": "x"}})
    with pytest.raises(ValidationError, match="give one of asgi, wsgi, command"):
        SshOptions.model_validate({"hosts": ["a"], "app": {"asgi": "a:b", "wsgi": "c:d"}})
    with pytest.raises(ValidationError, match="web1 appear more than once"):
        SshOptions.model_validate({"hosts": ["web1", {"host": "10.0.0.2", "server": "web1"}]})


def test_the_archive_is_the_same_bytes_each_time(tmp_path: Path) -> None:
    source = tmp_path / "v"
    (source / "__pycache__").mkdir(parents=True)
    (source / "app.py").write_text("x = 1\n")
    (source / "__pycache__" / "app.pyc").write_bytes(b"junk")
    _, first, _ = ssh_artifact.build(source, tmp_path / "a.tar")
    (source / "app.py").touch()
    _, second, _ = ssh_artifact.build(source, tmp_path / "b.tar")
    assert first == second
    with tarfile.open(tmp_path / "a.tar") as tar:
        assert tar.getnames() == ["app.py"]


def test_the_agent_refuses_an_archive_whose_hash_differs(tmp_path: Path) -> None:
    source = tmp_path / "v"
    source.mkdir()
    (source / "app.py").write_text("x = 1\n")
    host = tmp_path / "host"
    request = {"dir": str(host), "version": "1.0.0", "sha256": "0" * 64}
    assert ssh_agent.prepare(request) == {"ok": True, "have": False}
    archive, digest, _ = ssh_artifact.build(source, host / "incoming" / "1.0.0.tar")
    answer = ssh_agent.install(request)
    assert answer == {
        "ok": False,
        "error": f"the archive of 1.0.0 arrived with sha256 {digest}, not {'0' * 64}: not installed",
    }
    assert not (host / "versions" / "1.0.0").exists()
    assert not archive.exists()


def test_the_agent_refuses_a_version_that_is_not_a_plain_name(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a plain name"):
        ssh_agent.prepare({"dir": str(tmp_path), "version": "../etc", "sha256": "x"})


def test_the_walkthroughs_three_host_config_is_valid() -> None:
    import re

    import yaml

    from releasegate.drivers.checks.lb_healthy import LbHealthyOptions

    text = (Path(__file__).parents[3] / "docs" / "ssh-target.md").read_text()
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M)
    three = yaml.safe_load(next(b for b in blocks if b.startswith("x-lb:")))
    production = three["environments"]["production"]
    opts = SshOptions.model_validate(production["target"]["with"])
    assert [h.name for h in opts.hosts] == ["web1", "web2", "web3"]
    assert opts.balancer is not None
    assert opts.balancer.uses == "haproxy"
    LbHealthyOptions.model_validate(production["gates"][0]["with"])


def test_a_version_that_is_not_a_plain_name_is_refused_before_any_host_is_reached(
    tmp_path: Path,
) -> None:
    import asyncio

    from releasegate.drivers.api import Release
    from releasegate.drivers.targets.ssh import SshTarget
    from releasegate.testing import make_context

    opts = SshOptions.model_validate({"hosts": ["web1.invalid"], "connect_timeout": "1s"})
    ctx = make_context(release=Release("production", "../../etc"), workdir=tmp_path)
    result = asyncio.run(SshTarget().deploy(opts, ctx))
    assert not result.ok
    assert "version '../../etc' is not a plain name" in result.summary
