"""What releasegate says to the CI systems and code hosts around it.

* :mod:`.junit` — the gates and steps of a deployment as JUnit XML (GitLab, Jenkins, …);
* :mod:`.workflow` — GitHub Actions' job summary and ``::error`` annotations;
* :mod:`.github_api` — a small client of GitHub's REST and GraphQL APIs (errors people can
  act on: a refused token, a rate limit with its reset time, a repository not found);
* :mod:`.github_deployments` — GitHub Deployments kept in step with releasegate's.

The renderers are pure functions of the records a use case returns; only the last two
send anything anywhere. Nothing here imports the store, the policy or the engine.
"""
