"""Work after commit: the outbox, hook events, email rendering and delivery, the worker and its jobs."""
