"""How times and durations are written for people, shared by every adapter."""

from releasegate.policy.labels import human_duration, utc_label

__all__ = ["human_duration", "utc_label"]
