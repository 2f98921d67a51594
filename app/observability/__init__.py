"""What a process tells its operators: Prometheus metrics and log lines. Imported from any layer;
it imports nothing of the project's but the settings."""
