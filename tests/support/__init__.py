"""Helpers shared by the tests: real service processes on ephemeral ports, CLI runs."""
