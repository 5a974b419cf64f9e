"""Config of an environment's GitHub connection: ``environments.NAME.github``.

```yaml
environments:
  production:
    github: {repository: octo-org/shop, token: "${env:GITHUB_TOKEN}", deployments: true}
```

With ``deployments: true`` each deployment to the environment is mirrored as a GitHub
Deployment with its statuses (``in_progress``, ``success``, ``failure``, ``inactive`` after
a rollback), so the repository's Environments page and the pull request show what
releasegate did.
"""

# No ``from __future__ import annotations``: as in models.py, pydantic would then compile
# each annotation from its text when a command starts.

from datetime import timedelta

from pydantic import Field

from releasegate.config.models import Model
from releasegate.config.types import Duration


class GitHubSettings(Model):
    """Where and as whom releasegate talks to GitHub for one environment."""

    repository: str = Field("${env:GITHUB_REPOSITORY}", description="OWNER/NAME; ${env:NAME} is "
                            "read from the environment (not a secret).")
    token: str = Field("${env:GITHUB_TOKEN}", description="A token with deployments: write "
                       "(a secret reference; never printed or recorded).")
    api_url: str = Field("https://api.github.com", description="The REST API's root (GitHub "
                         "Enterprise Server: https://HOST/api/v3).")
    deployments: bool = Field(True, description="Mirror each deployment as a GitHub Deployment "
                              "with its statuses.")
    environment: str | None = Field(None, description="The GitHub environment's name; default: "
                                    "this environment's name.")
    environment_url: str | None = Field(None, description="The URL GitHub links the environment "
                                        "to; default: this environment's url.")
    log_url: str | None = Field(None, description="Where the deployment's log is; default: the "
                                "GitHub Actions run, when running in one.")
    production: bool | None = Field(None, description="Mark it a production environment; "
                                    "default: GitHub's (true for 'production').")
    transient: bool = Field(False, description="The environment goes away after use (a preview).")
    timeout: Duration = Field(timedelta(seconds=10), description="Give up on a request after "
                              "this long; a deployment never waits longer than 3× this for GitHub.")
