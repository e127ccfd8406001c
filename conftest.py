"""Shared fixtures for the core's and the plugins' tests live in facturo.testing."""

pytest_plugins = ["facturo.testing"]


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """PostgreSQL-only tests (real concurrency) are deselected, not skipped, on SQLite."""
    from facturo.testing import is_postgres

    if is_postgres():
        return
    keep, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres_only") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
