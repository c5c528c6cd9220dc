"""The score step: its parameters, the row checks (shared with the served models), the
output tables, the local and Spark engines, the step and its command."""
