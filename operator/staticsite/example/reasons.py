"""Condition types and reasons of StaticSite's status, all in one place (reasons in CamelCase)."""

# Condition types.
READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"

# Reasons. TODO(user): add yours here rather than spelling them out in the code.
AVAILABLE = "Available"  # every desired replica serves the current files
ROLLOUT_IN_PROGRESS = "RolloutInProgress"  # the Deployment has not caught up yet
ROLLOUT_COMPLETE = "RolloutComplete"  # nothing left to roll out
AS_EXPECTED = "AsExpected"  # no problem to report
INVALID_SPEC = "InvalidSpec"  # the spec breaks a rule the CRD could not (or did not) enforce
APPLY_REJECTED = "ApplyRejected"  # the API server refused a child object (422)
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"  # the Deployment's rollout is stuck
