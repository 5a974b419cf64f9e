"""Who is acting: the :class:`Actor` every use case receives, and how it was established."""

from releasegate.identity.actor import Actor, Via

__all__ = ["Actor", "Via"]
