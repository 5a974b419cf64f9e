"""A release's entry in a Keep-a-Changelog style file (plain text: no template engine, so a
deployment can read it without loading Jinja2)."""

from __future__ import annotations

import re

_SECTION_TAGS = {"Added": "Feature", "Changed": "Enhancement", "Fixed": "Fix",
                 "Security": "Security", "Removed": "Removed", "Deprecated": "Deprecated"}



def changelog_entry(text: str, version: str) -> str | None:
    """The body of ``version``'s entry in a Keep-a-Changelog style file (None if absent)."""
    heading = re.compile(rf"^##\s*\[?v?{re.escape(version)}\]?(?=\s|$)", re.M)
    match = heading.search(text)
    if match is None:
        return None
    rest = text[match.end():].partition("\n")[2]  # past the heading's date, if any
    following = re.search(r"^##\s", rest, re.M)
    return rest[: following.start() if following else None].strip()


def entry_changes(entry: str) -> list[str]:
    """``[Feature] text`` for each bullet of a changelog entry (its first sentence; a
    bullet wrapped over indented lines is one item)."""
    items: list[tuple[str, str]] = []
    section = ""
    inside = False
    for line in entry.splitlines():
        if line.startswith("### "):
            section, inside = line[4:].strip(), False
        elif re.match(r"^\s*[-*]\s", line):
            items.append((_SECTION_TAGS.get(section, section or "Change"), line.strip()[2:]))
            inside = True
        elif inside and line.startswith(" ") and line.strip():
            items[-1] = (items[-1][0], f"{items[-1][1]} {line.strip()}")
        else:
            inside = False
    return [f"[{tag}] " + re.split(r"(?<=\.)\s", text.replace("**", ""), maxsplit=1)[0]
            for tag, text in items]
