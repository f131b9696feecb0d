"""Central service: MQTT ingest, storage, incidents, geolocation, HTTP API and operator console.

Entry points: ``central.main`` (the ``vigifeu central`` subcommand) and ``central.app.create_app``.
"""
