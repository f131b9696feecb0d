"""MQTT ingest: a persistent, shared, manually acknowledged subscription feeding the database."""
