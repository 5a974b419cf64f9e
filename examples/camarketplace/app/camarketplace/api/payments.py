"""``POST /api/payments`` through a simulated gateway; 1.2.0 adds reconciliation."""

from __future__ import annotations

import logging
import random
import time
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from camarketplace.build import Features
from camarketplace.db import Row
from camarketplace.state import CurrentUser, State, new_id, now_iso

log = logging.getLogger("uvicorn.error.camarketplace")

METHODS = ("card", "upi", "netbanking", "wallet")
_BASE = "id, service_request_id, amount_paise, currency, method, status, failure_reason, created_at"
_RECON = ", gateway_reference, reconciliation_status, reconciled_at"


class NewPayment(BaseModel):
    amount: Decimal = Field(gt=0, le=1_000_000, decimal_places=2)
    method: Literal["card", "upi", "netbanking", "wallet"]
    currency: Literal["INR"] = "INR"
    serviceRequestId: str | None = None


def _charge(method: str, features: Features) -> tuple[str | None, str | None]:
    """Call the simulated gateway: (gateway reference, None) or (None, failure reason)."""
    time.sleep(random.uniform(0.010, 0.020))  # the gateway's round trip
    if method == features.failing_method:
        return None, f"gateway error: {method} collect request rejected (code U30)"
    return f"gw_{new_id(method)[len(method) + 1 :]}", None


def _public(row: Row, features: Features) -> dict[str, object]:
    body: dict[str, object] = {
        "id": row["id"],
        "status": row["status"],
        "method": row["method"],
        "amount": f"{Decimal(row['amount_paise']) / 100:.2f}",
        "currency": row["currency"],
        "serviceRequestId": row["service_request_id"],
        "failureReason": row["failure_reason"],
        "createdAt": row["created_at"],
    }
    if features.reconciliation:
        body["gatewayReference"] = row["gateway_reference"]
        body["reconciliation"] = {
            "status": row["reconciliation_status"],
            "reconciledAt": row["reconciled_at"],
        }
    return body


def build_router(features: Features) -> APIRouter:
    """The payment routes of a version with ``features``."""
    router = APIRouter(prefix="/api/payments")
    columns = _BASE + (_RECON if features.reconciliation else "")

    def load(payment_id: str, user_id: str, state: State) -> dict[str, object]:
        row = state.db.fetchone(
            f"SELECT {columns} FROM payments WHERE id = ? AND user_id = ?", (payment_id, user_id)
        )
        if row is None:
            raise HTTPException(404, f"no payment {payment_id}")
        return _public(row, features)

    @router.post("", status_code=201, response_model=None)
    def pay(body: NewPayment, user: CurrentUser, state: State) -> dict[str, object] | JSONResponse:
        """Charge the signed-in customer; 502 with the reason when the gateway refuses."""
        if body.serviceRequestId is not None and not state.db.fetchone(
            "SELECT id FROM service_requests WHERE id = ? AND user_id = ?",
            (body.serviceRequestId, user["id"]),
        ):
            raise HTTPException(404, f"no service request {body.serviceRequestId}")
        reference, failure = _charge(body.method, features)
        status = "failed" if failure else "captured"
        payment_id = new_id("pay")
        values: tuple[object, ...] = (
            payment_id, user["id"], body.serviceRequestId, int(body.amount * 100),
            body.currency, body.method, status, failure, now_iso(),
        )  # fmt: skip
        names = "id, user_id, service_request_id, amount_paise, currency, method, status, failure_reason, created_at"
        if features.reconciliation:
            names += ", gateway_reference, reconciliation_status"
            values += (reference, "pending" if reference else None)
        marks = ", ".join("?" * len(values))
        state.db.execute(f"INSERT INTO payments ({names}) VALUES ({marks})", values)
        state.metrics.observe_payment(body.method, status)
        payment = load(payment_id, user["id"], state)
        if failure:
            log.error("payment %s by %s failed: %s", payment_id, body.method, failure)
            return JSONResponse({"detail": f"payment failed: {failure}", "payment": payment}, 502)
        return payment

    @router.get("/{payment_id}")
    def show(payment_id: str, user: CurrentUser, state: State) -> dict[str, object]:
        """One of the signed-in customer's payments."""
        return load(payment_id, user["id"], state)

    if features.reconciliation:

        @router.post("/reconcile")
        def reconcile(user: CurrentUser, state: State) -> dict[str, object]:
            """Mark the customer's captured, pending payments as reconciled with the gateway."""
            now = now_iso()
            with state.db.transaction() as conn:
                pending = conn.execute(
                    "SELECT count(*) AS n FROM payments WHERE user_id = ? AND status = 'captured'"
                    " AND reconciliation_status = 'pending'",
                    (user["id"],),
                ).fetchone()["n"]
                conn.execute(
                    "UPDATE payments SET reconciliation_status = 'reconciled', reconciled_at = ?"
                    " WHERE user_id = ? AND status = 'captured' AND reconciliation_status = 'pending'",
                    (now, user["id"]),
                )
                run_id = new_id("rec")
                conn.execute(
                    "INSERT INTO reconciliation_runs (id, user_id, payments_reconciled, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (run_id, user["id"], pending, now),
                )
            return {"id": run_id, "paymentsReconciled": pending, "createdAt": now}

    return router
