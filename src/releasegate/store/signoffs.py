"""What people sign: approvals of a version, confirmations of checklist items.

The database decides who was first. One live approval per (environment, version, role)
and one confirmation per (deployment, item) are unique indexes; ``distinct_people`` (no
person in two roles) is checked inside a transaction serialised per (environment,
version): SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's ``pg_advisory_xact_lock``. Whoever
comes second gets :class:`ConflictError` naming the record that is already there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from releasegate.errors import ConflictError, StoreError
from releasegate.store import schema
from releasegate.store.base import StoreBase, to_record
from releasegate.store.deployments import check_via
from releasegate.store.records import ApprovalRecord, ConfirmationRecord
from releasegate.store.seals import seal, seal_row

_APPROVALS = schema.approvals
_CONFIRMATIONS = schema.confirmations
_DEPLOYMENTS = schema.deployments
_PG_SIGNOFF_NAMESPACE = 0x72677367  # "rgsg"
_SERIALISE = text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))")


class _Taken(Exception):
    """The unique index refused the insert (raised inside the transaction, to roll it back)."""


class Signoffs(StoreBase):
    """Approvals and confirmations."""

    def add_approval(
        self,
        *,
        environment: str,
        version: str,
        role: str,
        user: str,
        note: str | None = None,
        os_user: str | None = None,
        via: str | None = None,
        signature: str | None = None,
        payload: str | None = None,
        distinct_people: bool = False,
    ) -> ApprovalRecord:
        """Record ``user`` approving ``version`` for ``environment`` in ``role``.

        Raises :class:`ConflictError` if the role has already approved this version, or,
        with ``distinct_people``, if ``user`` already approved it in another role.
        ``payload`` is the exact text ``signature`` signs; both are kept and sealed.
        """
        check_via(via)
        values: dict[str, Any] = {
            "environment": environment, "version": version, "role": role, "user": user,
            "note": note, "created_at": self._now(), "revoked_at": None, "revoked_by": None,
            "os_user": os_user, "via": via, "signature": signature, "payload": payload,
        }  # fmt: skip
        try:
            with self._write_conn() as conn:
                if self.dialect == "postgresql":
                    key = f"{environment}\x1f{version}"
                    conn.execute(_SERIALISE, {"ns": _PG_SIGNOFF_NAMESPACE, "key": key})
                if distinct_people:
                    self._refuse_second_role(conn, values)
                try:
                    values["id"] = conn.execute(
                        insert(_APPROVALS).returning(_APPROVALS.c.id), values
                    ).scalar_one()
                except IntegrityError as exc:  # the unique index: someone signed first
                    raise _Taken from exc
                data = {k: values[k] for k in ("environment", "version", "role", "user", "note")}
                self._append_conn(
                    conn,
                    "approval.recorded",
                    {"approval_id": values["id"], **data, "os_user": os_user, "via": via,
                     "signed": signature is not None},
                    seals=[seal("approvals", values)],
                )  # fmt: skip
        except _Taken:
            raise ConflictError(self._approved_already(environment, version, role)) from None
        return to_record(ApprovalRecord, values)

    def _refuse_second_role(self, conn: Connection, values: dict[str, Any]) -> None:
        other = conn.execute(
            select(_APPROVALS.c.role).where(
                _APPROVALS.c.environment == values["environment"],
                _APPROVALS.c.version == values["version"],
                _APPROVALS.c.user == values["user"],
                _APPROVALS.c.role != values["role"],
                _APPROVALS.c.revoked_at.is_(None),
            )
        ).first()
        if other is not None:
            raise ConflictError(
                f"{values['user']} already approved {values['version']} for "
                f"{values['environment']} as {other.role}: distinct_people needs another "
                f"person for {values['role']}"
            )

    def _approved_already(self, environment: str, version: str, role: str) -> str:
        what = f"{role} has already approved {version} for {environment}"
        with self._read_conn() as conn:
            row = conn.execute(
                select(_APPROVALS).where(
                    _APPROVALS.c.environment == environment,
                    _APPROVALS.c.version == version,
                    _APPROVALS.c.role == role,
                    _APPROVALS.c.revoked_at.is_(None),
                )
            ).first()
        return what if row is None else f"{what} (approval {row.id} by {row.user})"

    def list_approvals(
        self, environment: str, version: str, *, include_revoked: bool = False
    ) -> list[ApprovalRecord]:
        """The approvals of a version for an environment, oldest first (revoked ones left out)."""
        query = (
            select(_APPROVALS)
            .where(_APPROVALS.c.environment == environment, _APPROVALS.c.version == version)
            .order_by(_APPROVALS.c.id)
        )
        if not include_revoked:
            query = query.where(_APPROVALS.c.revoked_at.is_(None))
        with self._read_conn() as conn:
            return [to_record(ApprovalRecord, row) for row in conn.execute(query)]

    def list_signed(self) -> tuple[list[ApprovalRecord], list[ConfirmationRecord]]:
        """Every approval and confirmation that carries an SSH signature, oldest first."""
        approvals = select(_APPROVALS).where(_APPROVALS.c.signature.is_not(None))
        confirmations = select(_CONFIRMATIONS).where(_CONFIRMATIONS.c.signature.is_not(None))
        with self._read_conn() as conn:
            return (
                [to_record(ApprovalRecord, r) for r in conn.execute(approvals.order_by(_APPROVALS.c.id))],
                [
                    to_record(ConfirmationRecord, r)
                    for r in conn.execute(confirmations.order_by(_CONFIRMATIONS.c.id))
                ],
            )

    def revoke_approval(self, id: int, *, user: str) -> ApprovalRecord:
        """Withdraw an approval (it stays on record, marked revoked by ``user``)."""
        from releasegate.store.tables import ApprovalRow

        with self._write() as session:
            row = self._get(session, ApprovalRow, id, "approval")
            if row.revoked_at is not None:
                raise StoreError(f"approval {id} was already revoked by {row.revoked_by}")
            row.revoked_at, row.revoked_by = self._now(), user
            session.flush()
            self._append(
                session,
                "approval.revoked",
                {
                    "approval_id": id,
                    "environment": row.environment,
                    "version": row.version,
                    "role": row.role,
                    "user": user,
                },
                seals=[seal_row(row)],
            )
            return to_record(ApprovalRecord, row)

    def add_confirmation(
        self,
        *,
        deployment_id: int,
        item: str,
        user: str,
        note: str | None = None,
        os_user: str | None = None,
        via: str | None = None,
        signature: str | None = None,
        payload: str | None = None,
    ) -> ConfirmationRecord:
        """Record ``user`` signing checklist item ``item`` of a deployment.

        Raises :class:`ConflictError` if the item is already signed for this deployment.
        """
        check_via(via)
        values: dict[str, Any] = {
            "deployment_id": deployment_id, "item": item, "user": user, "note": note,
            "created_at": self._now(), "os_user": os_user, "via": via,
            "signature": signature, "payload": payload,
        }  # fmt: skip
        try:
            with self._write_conn() as conn:
                if (
                    conn.execute(
                        select(_DEPLOYMENTS.c.id).where(_DEPLOYMENTS.c.id == deployment_id)
                    ).first()
                    is None
                ):
                    raise StoreError(f"deployment {deployment_id} does not exist")
                try:
                    values["id"] = conn.execute(
                        insert(_CONFIRMATIONS).returning(_CONFIRMATIONS.c.id), values
                    ).scalar_one()
                except IntegrityError as exc:  # the unique index: someone signed first
                    raise _Taken from exc
                self._append_conn(
                    conn,
                    "confirmation.recorded",
                    {"confirmation_id": values["id"], "item": item, "user": user, "note": note,
                     "os_user": os_user, "via": via, "signed": signature is not None},
                    deployment_id=deployment_id,
                    seals=[seal("confirmations", values)],
                )  # fmt: skip
        except _Taken:
            raise ConflictError(self._signed_already(deployment_id, item)) from None
        return to_record(ConfirmationRecord, values)

    def _signed_already(self, deployment_id: int, item: str) -> str:
        what = f"{item} is already signed for deployment {deployment_id}"
        with self._read_conn() as conn:
            row = conn.execute(
                select(_CONFIRMATIONS).where(
                    _CONFIRMATIONS.c.deployment_id == deployment_id, _CONFIRMATIONS.c.item == item
                )
            ).first()
        return what if row is None else f"{what} by {row.user}"

    def list_confirmations(self, deployment_id: int) -> list[ConfirmationRecord]:
        """The confirmations of a deployment, oldest first."""
        query = (
            select(_CONFIRMATIONS)
            .where(_CONFIRMATIONS.c.deployment_id == deployment_id)
            .order_by(_CONFIRMATIONS.c.id)
        )
        with self._read_conn() as conn:
            return [to_record(ConfirmationRecord, row) for row in conn.execute(query)]
