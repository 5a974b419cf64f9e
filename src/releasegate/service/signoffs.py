"""Sign-offs: approvals of a version, confirmations of checklist items.

The database keeps them unique (one approval per environment, version and role; one
person in one role where ``distinct_people`` is set; one signature per item and
deployment): concurrent requests cannot record two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.service.auth import authorize
from releasegate.service.facts import approval_fact
from releasegate.service.inputs import check_environment, check_id, check_version
from releasegate.service.results import Done
from releasegate.service.signing import Signer, sign
from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.store.api import DeploymentRecord


def approve(
    ws: Workspace, actor: Actor, env: str, version: str, *, role: str, note: str | None = None,
    signer: Signer | None = None,
) -> Done:
    """``actor`` approves ``version`` for ``env`` in ``role`` (a role they hold); under
    ``identity.mode: ssh`` ``signer`` signs it with their key."""
    from releasegate.policy.api import validate_approval

    config = ws.config
    authorize(config, actor, "approve")
    check_environment(list(config.environments), env)
    check_version(ws.config, version)
    store = ws.store
    existing = [approval_fact(a) for a in store.list_approvals(env, version)]
    active = [
        d for d in store.list_deployments(environment=env, limit=50)
        if d.version == version and d.status in ("pending", "running")
    ]
    deployer = active[0].user if active else None
    validate_approval(config, env, version, role, actor.name, existing, deployer=deployer)
    rules = config.environments[env].approvals
    signed = sign(ws, actor, signer, environment=env, version=version, role=role)
    record = store.add_approval(
        environment=env, version=version, role=role, user=actor.name, note=note,
        os_user=actor.os_user, via=actor.via, signature=signed.signature,
        payload=signed.payload, distinct_people=bool(rules and rules.distinct_people),
    )
    done = {a.role for a in existing} | {role}
    missing = [r for r in (rules.roles if rules else []) if r not in done]
    tail = f"; still needed: {', '.join(missing)}" if missing else "; every role has signed"
    return Done(
        record.id,
        f"approval {record.id}: {actor.name} approved {version} for {env} as {role}{tail}",
        {"environment": env, "version": version, "role": role, "user": actor.name,
         "note": note, "missing": missing, "verified": actor.verified,
         "signed": signed.signature is not None},
    )


def confirm(
    ws: Workspace, actor: Actor, id: int, item: str, *, note: str | None = None,
    signer: Signer | None = None,
) -> Done:
    """``actor`` signs checklist item ``item`` for deployment ``id`` (with their SSH key
    under ``identity.mode: ssh``)."""
    config = ws.config
    authorize(config, actor, "confirm")
    check_id(id, "deployment")
    store = ws.store
    dep = store.get_deployment(id)
    if dep is None:
        raise UsageError(f"there is no deployment {id}")
    conf = next((c for c in config.confirmations if c.id == item), None)
    if conf is None and item.startswith("verify."):  # a paused verification stage
        from releasegate.service.verify import confirm_stage

        return confirm_stage(ws, actor, id, item, note=note, signer=signer)
    if conf is None:
        from releasegate.config.timespec import did_you_mean

        raise UsageError(
            f"{item!r} is not a confirmation of this config"
            f"{did_you_mean(item, [c.id for c in config.confirmations])}"
        )
    if conf.environments and dep.environment not in conf.environments:
        raise UsageError(
            f"{item!r} applies to {', '.join(conf.environments)}, not to {dep.environment} "
            f"(deployment {id})"
        )
    roles = actor.roles
    if conf.by and not actor.single_person and not roles & set(conf.by):
        from releasegate.errors import PermissionDenied

        raise PermissionDenied(
            f"{actor.name} may not sign {item!r}: it needs one of the roles {', '.join(conf.by)} "
            f"({actor.name} holds {', '.join(sorted(roles)) or 'none'})"
        )
    return record_confirmation(
        ws, actor, dep, item, note=note, signer=signer,
        text=f"{item} signed by {actor.name} for deployment {id}",
    )


def record_confirmation(
    ws: Workspace, actor: Actor, dep: DeploymentRecord, item: str, *, note: str | None,
    signer: Signer | None, text: str,
) -> Done:
    """Record ``actor``'s signature of ``item`` for ``dep`` (SSH-signed under ``mode: ssh``);
    the database keeps it to one per item and deployment."""
    signed = sign(
        ws, actor, signer, environment=dep.environment, version=dep.version, item=item,
        deployment_id=dep.id,
    )
    record = ws.store.add_confirmation(
        deployment_id=dep.id, item=item, user=actor.name, note=note, os_user=actor.os_user,
        via=actor.via, signature=signed.signature, payload=signed.payload,
    )
    return Done(
        record.id, text,
        {"deployment": dep.id, "item": item, "user": actor.name, "note": note,
         "verified": actor.verified},
    )
