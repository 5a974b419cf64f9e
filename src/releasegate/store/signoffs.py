"""What people sign: approvals of a version, confirmations of checklist items."""

from __future__ import annotations

from sqlalchemy import select

from releasegate.errors import StoreError
from releasegate.store.base import StoreBase, to_record
from releasegate.store.records import ApprovalRecord, ConfirmationRecord
from releasegate.store.tables import ApprovalRow, ConfirmationRow, DeploymentRow


class Signoffs(StoreBase):
    """Approvals and confirmations."""

    def add_approval(
        self, *, environment: str, version: str, role: str, user: str, note: str | None = None
    ) -> ApprovalRecord:
        """Record ``user`` approving ``version`` for ``environment`` in ``role``."""
        with self._write() as session:
            row = ApprovalRow(
                environment=environment,
                version=version,
                role=role,
                user=user,
                note=note,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "approval.recorded",
                {
                    "approval_id": row.id,
                    "environment": environment,
                    "version": version,
                    "role": role,
                    "user": user,
                    "note": note,
                },
            )
            return to_record(ApprovalRecord, row)

    def list_approvals(
        self, environment: str, version: str, *, include_revoked: bool = False
    ) -> list[ApprovalRecord]:
        """The approvals of a version for an environment, oldest first (revoked ones left out)."""
        query = (
            select(ApprovalRow)
            .where(ApprovalRow.environment == environment, ApprovalRow.version == version)
            .order_by(ApprovalRow.id)
        )
        if not include_revoked:
            query = query.where(ApprovalRow.revoked_at.is_(None))
        with self._read() as session:
            return [to_record(ApprovalRecord, row) for row in session.scalars(query)]

    def revoke_approval(self, id: int, *, user: str) -> ApprovalRecord:
        """Withdraw an approval (it stays on record, marked revoked by ``user``)."""
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
            )
            return to_record(ApprovalRecord, row)

    def add_confirmation(
        self, *, deployment_id: int, item: str, user: str, note: str | None = None
    ) -> ConfirmationRecord:
        """Record ``user`` signing checklist item ``item`` of a deployment."""
        with self._write() as session:
            self._get(session, DeploymentRow, deployment_id, "deployment")
            row = ConfirmationRow(
                deployment_id=deployment_id,
                item=item,
                user=user,
                note=note,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            self._append(
                session,
                "confirmation.recorded",
                {"confirmation_id": row.id, "item": item, "user": user, "note": note},
                deployment_id=deployment_id,
            )
            return to_record(ConfirmationRecord, row)

    def list_confirmations(self, deployment_id: int) -> list[ConfirmationRecord]:
        """The confirmations of a deployment, oldest first."""
        query = (
            select(ConfirmationRow)
            .where(ConfirmationRow.deployment_id == deployment_id)
            .order_by(ConfirmationRow.id)
        )
        with self._read() as session:
            return [to_record(ConfirmationRecord, row) for row in session.scalars(query)]
