"""``releasegate demo``: the checklist's story end to end on the example service: a workspace,
local stand-ins for Slack and the status page, steady traffic, and a team that signs."""
