"""Policy: windows, freezes, promotion and soak, approvals, the emergency path and the
rollback decision matrix — pure functions of config, store facts and a clock.

The public face is :mod:`releasegate.policy.api`; the store facts are in
:mod:`releasegate.policy.facts`.
"""
