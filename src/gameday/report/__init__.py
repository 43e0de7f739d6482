"""The HTML report (and the runner's one-call `finish`), rendered from a saved result."""

__all__: list[str] = []
