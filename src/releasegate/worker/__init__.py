"""``releasegate worker``: runs queued deployments (team mode) through procrastinate.

An adapter like ``cli/`` and ``web/``: it registers the jobs' functions with the job
library and calls ``releasegate.service`` (``queue_run``, ``queue_allowed``, ``jobs``);
every rule is decided there, and under the environment's lease.
"""
