"""Shared fixtures for the core's and the plugins' tests live in facturo.testing."""

pytest_plugins = ["facturo.testing"]
