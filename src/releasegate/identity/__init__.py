"""Who is acting, what they may do, and the SSH signatures on their sign-offs.

* :func:`establish_actor` / :func:`actor_for` — the :class:`Actor` every use case receives;
* :func:`authorize` — ``permissions:`` applied to it (:class:`~releasegate.errors.PermissionDenied`);
* :func:`canonical_payload`, :func:`sign_payload`, :func:`verify_signature` — sign-offs
  under ``identity.mode: ssh`` (:class:`~releasegate.errors.IdentityError`).
"""

from releasegate.config.identity_check import ACTIONS, Action
from releasegate.identity.actor import Actor, Via
from releasegate.identity.establish import (
    SYSTEM_NAME,
    actor_for,
    current_os_user,
    establish_actor,
)
from releasegate.identity.payload import canonical_payload, payload_fields
from releasegate.identity.permissions import (
    SYSTEM_ACTIONS,
    authorize,
    describe_permissions,
    may,
    roles_for,
)
from releasegate.identity.sshsig import (
    allowed_signers_file,
    default_signing_key,
    sign_payload,
    verify_signature,
)

__all__ = [
    "ACTIONS",
    "SYSTEM_ACTIONS",
    "SYSTEM_NAME",
    "Action",
    "Actor",
    "Via",
    "actor_for",
    "allowed_signers_file",
    "authorize",
    "canonical_payload",
    "current_os_user",
    "default_signing_key",
    "describe_permissions",
    "establish_actor",
    "may",
    "payload_fields",
    "roles_for",
    "sign_payload",
    "verify_signature",
]
