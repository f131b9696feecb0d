"""Edge worker: RTSP cameras -> detector -> temporal confirmation -> durable MQTT alerts."""
