"""Who is acting and what they may do: the identity module's rules, applied by every use case."""

from releasegate.identity import authorize, current_os_user, establish_actor

__all__ = ["authorize", "current_os_user", "establish_actor"]
