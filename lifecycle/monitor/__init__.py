"""The monitor step: drift against the training inputs' profile, the verdicts and the
report, the step and its command."""
