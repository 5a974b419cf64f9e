"""Verification after release: staged windows of metrics judged against thresholds and
baselines. The public face is :mod:`releasegate.verify.api`; the probe's load generator
(``openloop``, ``http1``) lives here too, and the metric sources in
``releasegate.drivers.sources``."""
