"""Registers the built-in drivers (the ``builtin`` entry point of ``releasegate.drivers``).

Registration is lazy: a driver's module is imported the first time the registry is asked
for it, so validating a config imports only the drivers it names.
"""

from __future__ import annotations

from releasegate.drivers.api import DriverKind, Registry

_CHECKS = "releasegate.drivers.checks"
_SOURCES = "releasegate.drivers.sources"

# (kind, name, module, class) — one driver per module.
BUILTINS: tuple[tuple[DriverKind, str, str, str], ...] = (
    ("step", "command", f"{_CHECKS}.command", "CommandStep"),
    ("step", "http-check", f"{_CHECKS}.http_check", "HttpCheck"),
    ("step", "version-check", f"{_CHECKS}.version_check", "VersionCheck"),
    ("step", "smoke", f"{_CHECKS}.smoke", "Smoke"),
    ("step", "changelog", f"{_CHECKS}.changelog", "Changelog"),
    ("step", "env-present", f"{_CHECKS}.env_present", "EnvPresent"),
    ("step", "git", f"{_CHECKS}.git", "Git"),
    ("step", "secret-scan", f"{_CHECKS}.secret_scan", "SecretScan"),
    ("step", "dependency-audit", f"{_CHECKS}.dependency_audit", "DependencyAudit"),
    ("step", "backup", f"{_CHECKS}.backup", "Backup"),
    ("step", "backup-verify", f"{_CHECKS}.backup_verify", "BackupVerify"),
    ("step", "restore", f"{_CHECKS}.restore", "Restore"),
    ("step", "migrate", f"{_CHECKS}.migrate", "Migrate"),
    ("step", "maintenance", f"{_CHECKS}.maintenance", "Maintenance"),
    ("step", "confirm", f"{_CHECKS}.confirm", "Confirm"),
    ("step", "statuspage", f"{_CHECKS}.statuspage", "Statuspage"),
    ("step", "notify", f"{_CHECKS}.notify", "Notify"),
    ("step", "coverage", f"{_CHECKS}.coverage", "Coverage"),
    ("step", "checklist-sync", f"{_CHECKS}.checklist_sync", "ChecklistSync"),
    ("step", "github-review", f"{_CHECKS}.github_review", "GitHubReview"),
    ("target", "command", "releasegate.drivers.targets.command", "CommandTarget"),
    ("target", "local", "releasegate.drivers.targets.local", "LocalTarget"),
    ("target", "ssh", "releasegate.drivers.targets.ssh", "SshTarget"),
    ("step", "lb-healthy", f"{_CHECKS}.lb_healthy", "LbHealthy"),
    ("step", "lb-maintenance", f"{_CHECKS}.lb_maintenance", "LbMaintenance"),
)

# Verification: the metric sources and the steps built on them (docs/verification.md).
VERIFY_BUILTINS: tuple[tuple[DriverKind, str, str, str], ...] = (
    ("source", "probe", f"{_SOURCES}.probe", "Probe"),
    ("source", "prometheus", f"{_SOURCES}.prometheus", "Prometheus"),
    ("source", "system", f"{_SOURCES}.system", "System"),
    ("source", "postgres", f"{_SOURCES}.postgres", "Postgres"),
    ("source", "redis", f"{_SOURCES}.redis", "Redis"),
    ("source", "log-scan", f"{_SOURCES}.log_scan", "LogScan"),
    ("source", "sentry", f"{_SOURCES}.sentry", "Sentry"),
    ("step", "load-test", f"{_SOURCES}.load_test", "LoadTest"),
    ("step", "metrics-check", f"{_SOURCES}.metrics_check", "MetricsCheck"),
)


def register(registry: Registry) -> None:
    """Add every built-in driver to ``registry``."""
    for kind, name, module, cls_name in (*BUILTINS, *VERIFY_BUILTINS):
        registry.register_lazy(kind, name, f"{module}:{cls_name}")
