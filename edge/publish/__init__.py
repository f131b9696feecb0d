"""Alert delivery: a durable SQLite outbox drained by an MQTT publisher (QoS 1, PUBACK deletes)."""
