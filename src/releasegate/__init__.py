"""releasegate: a team's deployment checklist, executable."""

__version__ = "0.1.0"
