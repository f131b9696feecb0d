"""The running parts of one central instance, shared by routes, plugins and the ingest worker.

Built in the application lifespan (never at import) and reachable from a route through
``central.api.deps.ServicesDep`` or ``request.app.state.services``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.events_bus import EventBus
from central.incidents.clustering import ClusterConfig
from central.incidents.locating import Locator
from central.ingest.batch import Listener
from central.ingest.consumer import MqttConsumer
from central.ingest.metrics import IngestMetrics
from central.relay import ChangeRelay
from central.settings import CentralSettings


@dataclass
class Services:
    """``listeners`` are called after each committed message (from the ingest thread); plugins
    append to it in their lifespan, before ingest starts. ``bus`` carries what changed (ingest,
    operators, dispatch; other instances' changes too, through ``central.relay``) to the live
    pages."""

    settings: CentralSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    locator: Locator
    metrics: IngestMetrics = field(default_factory=IngestMetrics)
    listeners: list[Listener] = field(default_factory=list)
    bus: EventBus = field(default_factory=EventBus)
    consumer: MqttConsumer | None = None
    relay: ChangeRelay | None = None

    @property
    def cluster_config(self) -> ClusterConfig:
        return ClusterConfig(
            window_s=self.settings.cluster_window_s,
            max_range_m=self.settings.cluster_max_range_m,
            margin_deg=self.settings.cluster_margin_deg,
            sighting_window_s=self.settings.cluster_sighting_window_s,
        )
