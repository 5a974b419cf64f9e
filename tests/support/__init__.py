"""Helpers shared by test folders (imported as ``tests.support.…``)."""
