"""``git``: checks on the working tree (clean, branch, commit) and tagging the release."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.process import ProcessResult, run_command


class GitOptions(Options):
    """Options of ``git``. Checks run first; the tag is made only when they pass."""

    repo: str = Field(".", description="The repository, relative to the config file.")
    clean: bool = Field(False, description="Fail on uncommitted or untracked changes.")
    branch: str | None = Field(None, description="Fail unless this branch is checked out.")
    commit: bool = Field(
        False, description="Fail unless HEAD is the release's commit (as the release records it)."
    )
    tag: bool = Field(False, description="Create an annotated tag for the version at HEAD.")
    tag_template: str = Field("v{version}", description="The tag's name; {version} is replaced.")
    tag_message: str = Field("Release {version}", description="The annotated tag's message.")
    push: bool = Field(False, description="Push the tag to `remote` (implies nothing else).")
    remote: str = Field("origin", description="The remote to push the tag to.")


class _Git:
    def __init__(self, ctx: StepContext, repo: str) -> None:
        self.ctx = ctx
        self.repo = repo

    async def __call__(self, *args: str) -> ProcessResult:
        return await run_command(self.ctx, ["git", *args], cwd=self.repo)

    async def out(self, *args: str) -> str | None:
        result = await self(*args)
        return result.output.strip() if result.ok else None


class Git:
    """Idempotent: an existing tag on HEAD is accepted and pushing it again is harmless."""

    name: ClassVar[str] = "git"
    Options: ClassVar[type[GitOptions]] = GitOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: GitOptions, ctx: StepContext) -> StepResult:
        git = _Git(ctx, options.repo)
        probe = await git("rev-parse", "HEAD")
        if not probe.ok:
            reason = probe.error or probe.last_line()
            return StepResult(ok=False, summary=f"{options.repo} is not a git repository: {reason}")
        head = probe.output.strip()
        evidence: dict[str, JsonValue] = {"head": head}
        problems: list[str] = []
        if options.clean:
            status = await git("status", "--porcelain")
            dirty = [line for line in status.output.splitlines() if line.strip()] if status.ok else []
            evidence["dirty_files"] = len(dirty)
            if dirty:
                shown = ", ".join(line[3:] for line in dirty[:5]) + ("..." if len(dirty) > 5 else "")
                problems.append(f"working tree is not clean ({len(dirty)} changed: {shown})")
        if options.branch:
            branch = await git.out("symbolic-ref", "--short", "-q", "HEAD")
            evidence["branch"] = branch
            if branch != options.branch:
                problems.append(f"on {branch or 'a detached HEAD'}, expected branch {options.branch}")
        if options.commit:
            wanted = ctx.release.commit
            if not wanted:
                problems.append("the release has no commit to compare HEAD with")
            elif not head.startswith(wanted) and await git.out("rev-parse", wanted + "^{commit}") != head:
                problems.append(f"HEAD is {head[:12]}, not the release's commit {wanted[:12]}")
        if problems:
            return StepResult(ok=False, summary="; ".join(problems), evidence=evidence)
        done = ["checks passed"]
        if options.tag or options.push:
            tag = options.tag_template.replace("{version}", ctx.release.version)
            evidence["tag"] = tag
            failure = await _tag_and_push(git, options, tag, head, ctx.release.version, done)
            if failure:
                return StepResult(ok=False, summary=failure, evidence=evidence)
        return StepResult(ok=True, summary="; ".join(done), evidence=evidence)


async def _tag_and_push(
    git: _Git, options: GitOptions, tag: str, head: str, version: str, done: list[str]
) -> str | None:
    """Create and/or push ``tag``; returns a failure message or ``None``."""
    existing = await git.out("rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}")
    if options.tag:
        if existing is None:
            message = options.tag_message.replace("{version}", version)
            made = await git("tag", "-a", tag, "-m", message, head)
            if not made.ok:
                return f"could not create tag {tag}: {made.error or made.last_line()}"
            done.append(f"tagged {tag}")
        elif existing != head:
            return f"tag {tag} already exists on {existing[:12]}, not on HEAD {head[:12]}"
        else:
            done.append(f"tag {tag} already on HEAD")
    elif existing is None:
        return f"tag {tag} does not exist (set tag: true to create it)"
    if options.push:
        pushed = await git("push", options.remote, f"refs/tags/{tag}")
        if not pushed.ok:
            return f"could not push {tag} to {options.remote}: {pushed.error or pushed.last_line()}"
        done.append(f"pushed {tag} to {options.remote}")
    return None
