"""llm-gameday: chaos and load-testing resilience suite for LLM gateways."""

__all__ = ["__version__"]

__version__ = "0.1.0"
