"""The engine's data types the adapters present (plans, rollback previews)."""

from releasegate.engine.api import RollbackPreview
from releasegate.engine.plan import Plan, PlannedStep

__all__ = ["Plan", "PlannedStep", "RollbackPreview"]
