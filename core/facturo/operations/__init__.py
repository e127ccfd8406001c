"""Running Facturo: readiness checks, metrics and database backups."""
