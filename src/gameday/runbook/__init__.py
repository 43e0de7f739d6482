"""The runbook and go/no-go memo, generated from what a run observed (templates in runbooks/templates)."""

__all__: list[str] = []
