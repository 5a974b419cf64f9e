"""Metric sources for verification, one per module (``probe``, ``prometheus``, ``system``,
``postgres``, ``redis``, ``log-scan``, ``sentry``), and the steps built on them
(``load-test``, ``metrics-check``)."""
