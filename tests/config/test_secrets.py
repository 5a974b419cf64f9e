"""Secret references: resolved at run time, remembered, redacted; errors never show values."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.loader import load_config
from releasegate.config.secrets import SecretResolver, find_references, references_in
from releasegate.drivers.api import Registry
from releasegate.errors import ConfigError

VALID = Path(__file__).parent / "data" / "valid.yaml"


def test_env_and_file_references_resolve_and_are_redacted(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("file-secret-value\n", encoding="utf-8")
    secrets = SecretResolver(tmp_path, environ={"DB_PASSWORD": "hunter22", "PIN": "123"})
    url = secrets.resolve("postgresql://app:${env:DB_PASSWORD}@db/app")
    assert url == "postgresql://app:hunter22@db/app"
    assert secrets.resolve("Bearer ${file:token.txt}") == "Bearer file-secret-value"
    assert secrets.resolve("${env:PIN}") == "123"
    log = "connecting to postgresql://app:hunter22@db/app with Bearer file-secret-value, pin 123"
    # values shorter than 4 characters are too common to redact
    assert (
        secrets.redact(log) == "connecting to postgresql://app:***@db/app with Bearer ***, pin 123"
    )


def test_a_doubled_dollar_is_a_literal(tmp_path: Path) -> None:
    secrets = SecretResolver(tmp_path, environ={})
    assert secrets.resolve("echo $${env:HOME} costs $5") == "echo ${env:HOME} costs $5"


def test_a_missing_secret_names_the_reference_not_a_value(tmp_path: Path) -> None:
    secrets = SecretResolver(tmp_path, environ={"OTHER": "s3cr3t-value"})
    with pytest.raises(ConfigError) as caught:
        secrets.resolve("${env:OTHER}:${env:DB_PASSWORD}")
    assert (
        str(caught.value)
        == "secret ${env:DB_PASSWORD} is not set: no environment variable DB_PASSWORD"
    )
    with pytest.raises(ConfigError) as caught:
        secrets.resolve("${file:missing.txt}")
    assert (
        str(caught.value) == "secret ${file:missing.txt} cannot be read: No such file or directory"
    )


def test_a_malformed_reference_is_refused_at_resolution(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        SecretResolver(tmp_path, environ={}).resolve("${env:A")
    assert (
        str(caught.value)
        == "unterminated secret reference in '${env:A' (write ${env:NAME} or ${file:PATH}, or $${ for a literal ${ such as a shell variable)"
    )


def test_references_in_text() -> None:
    assert [str(r) for r in references_in("${env:A}/${file:/run/b}/$${env:C}")] == [
        "${env:A}",
        "${file:/run/b}",
    ]


def test_find_references_lists_each_reference_of_a_config_once(registry: Registry) -> None:
    config = load_config(VALID, catalog=registry)
    assert find_references(config) == ["${env:DATABASE_URL}", "${file:VERSION}", "${env:SLACK_URL}"]
