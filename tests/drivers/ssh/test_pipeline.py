"""A deployment through the application layer with the ssh target behind HAProxy: the
"Load balancer healthy" gate, the rolling release, each host's part in the stored evidence,
``status`` reading the version every host serves, and ``target stop`` stopping every host."""

from __future__ import annotations

import json
from pathlib import Path

from tests.drivers.ssh.conftest import deployer
from tests.support.haproxy import running_haproxy
from tests.support.sshd import fleet

from releasegate.service import deployments, records, show, targets
from releasegate.service.workspace import Workspace


def test_a_deployment_records_every_hosts_part_and_the_balancers_health(
    workdir: Path, tmp_path: Path
) -> None:
    with fleet(tmp_path / "fleet", 3) as group:
        first, _ = deployer(workdir, group.options())
        assert first("1.0.0").ok
        servers = [(h.name, h.address, group.app_port) for h in group.hosts]
        with running_haproxy(servers, tmp_path) as lb:
            balancer = {"uses": "haproxy", "with": lb.options()}
            target = group.options(balancer=balancer, batch="50%")
            config = {
                "project": "shop",
                "environments": {
                    "production": {
                        "url": lb.url,
                        "target": {"uses": "ssh", "with": target},
                        "gates": [{"id": "lb", "uses": "lb-healthy", "with": {"balancer": balancer},
                                   "checklist": ["load-balancer-healthy"]}],
                        "deploy": [{"id": "release", "uses": "target"}],
                    }
                },
            }
            (workdir / "releasegate.yaml").write_text(json.dumps(config))  # JSON is YAML
            ws = Workspace(workdir / "releasegate.yaml")
            try:
                actor = ws.actor(requested="ana", env_user=None)
                done = deployments.deploy(ws, actor, "production", "2.0.0")
                assert done.status == "succeeded", done
                shown = show.show(ws, actor, 1)
                [row] = records.status(ws, actor, "production").environments
                assert row.attention is None
                targets.stop(ws, actor, "production")  # `releasegate target stop`
                assert [h.supervisor_pid() for h in group.hosts] == [None, None, None]
            finally:
                ws.close()
    [item] = shown["checklist"]  # type: ignore[misc]
    assert item["id"] == "load-balancer-healthy"
    assert item["done"] is True
    assert "3 of 3 servers up" in item["evidence"]
    release = next(s for s in shown["steps"] if s["step"] == "release")  # type: ignore[attr-defined]
    hosts = release["evidence"]["hosts"]
    assert [(h["host"], h["batch"], h["status"], h["previous"]) for h in hosts] == [
        ("web1", 1, "switched", "1.0.0"), ("web2", 1, "switched", "1.0.0"),
        ("web3", 2, "switched", "1.0.0"),
    ]
    assert release["evidence"]["batches"] == [["web1", "web2"], ["web3"]]
