"""The operator console: server-rendered pages, live push (SSE), map and camera health.

``plugin(settings)`` is the entry point ``central.app`` loads (see ``PLUGIN_MODULES``).
"""

from central.console.plugin import ConsolePlugin, plugin

__all__ = ["ConsolePlugin", "plugin"]
