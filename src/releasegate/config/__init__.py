"""Configuration: models of releasegate.yaml, the loader with located errors, the schema."""

from releasegate.config.models import Config, Environment, Step

__all__ = ["Config", "Environment", "Step"]
