"""The FastAPI application of one central instance: ``create_app(settings)``.

Nothing happens at import or in ``create_app`` beyond wiring: the lifespan migrates the
database to head, loads the geodata, starts the plugins, then the change relay to the other
instances (``central.relay``) and the MQTT ingest, and stops them in reverse order.

Plugins (the operator console, dispatch) are modules named in ``PLUGIN_MODULES`` that expose
``plugin(settings) -> Plugin``; they add routers at creation and run workers in the lifespan.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Protocol, cast

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from central.api.errors import install_error_handlers
from central.api.routes import alerts, cameras, health, incidents, snapshots
from central.api.schemas import API_PREFIX
from central.db import make_engine, make_session_factory
from central.db.migrate import upgrade_to_head
from central.events_bus import EventBus
from central.incidents.locating import Locator
from central.ingest.batch import BatchStore, Listener
from central.ingest.consumer import ConsumerConfig, MqttConsumer, MqttEndpoint
from central.ingest.handler import Handled, HandlerConfig, change_of
from central.relay import ChangeRelay
from central.services import Services
from central.settings import CentralSettings

logger = logging.getLogger(__name__)

# Optional parts of central, imported when the app is created (explicit, in this order): the
# operator console with dispatch (issue 7).
PLUGIN_MODULES: tuple[str, ...] = ("central.console",)


class Plugin(Protocol):
    def install(self, app: FastAPI) -> None:
        """Add routers, static files, middleware. Called once by ``create_app``."""

    def lifespan(self, services: Services) -> AbstractAsyncContextManager[None]:
        """Run while the app runs; append ingest listeners to ``services.listeners`` here."""


class PluginModule(Protocol):
    def plugin(self, settings: CentralSettings) -> Plugin: ...


def api_routers() -> list[APIRouter]:
    """The routers of ``/api/v1``."""
    return [
        incidents.router,
        incidents.geojson_router,
        alerts.router,
        cameras.router,
        snapshots.router,
        health.router,
    ]


def default_plugins(settings: CentralSettings) -> list[Plugin]:
    return [
        cast(PluginModule, importlib.import_module(name)).plugin(settings)
        for name in PLUGIN_MODULES
    ]


def load_locator(settings: CentralSettings) -> Locator:
    from central.geo import Locator as GeoLocator
    from central.geo import load_geodata

    return GeoLocator(load_geodata(settings.geodata_dir))


def _operation_id(route: APIRoute) -> str:
    """Stable OpenAPI operation ids (``incidents-incident``) for generated clients."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _publisher_of_changes(bus: EventBus) -> Listener:
    """The ingest listener that tells the live pages (and the other instances) what changed."""

    def publish(handled: Handled) -> None:
        change = change_of(handled)
        if change is not None:
            bus.publish(change)

    return publish


def _build_consumer(services: Services) -> MqttConsumer:
    settings = services.settings
    stop = threading.Event()
    store = BatchStore(
        services.session_factory,
        services.locator,
        HandlerConfig(
            instance_id=settings.instance_id,
            quarantine_payload_max_bytes=settings.quarantine_payload_max_bytes,
            cluster=services.cluster_config,
        ),
        services.metrics,
        stop,
        listeners=services.listeners,
    )
    config = ConsumerConfig(
        endpoint=MqttEndpoint.from_url(settings.mqtt_url),
        client_id=settings.instance_id,
        share_group=settings.share_group,
        session_expiry_s=settings.mqtt_session_expiry_s,
        keepalive_s=settings.mqtt_keepalive_s,
        receive_maximum=settings.mqtt_receive_maximum,
        batch_max=settings.ingest_batch_max,
    )
    return MqttConsumer(config, store, stop)


def create_app(
    settings: CentralSettings,
    *,
    locator: Locator | None = None,
    plugins: Sequence[Plugin] | None = None,
    ingest: bool = True,
) -> FastAPI:
    """The app. ``locator`` None loads ``central.geo`` with the configured geodata; ``plugins``
    None uses ``PLUGIN_MODULES``; ``ingest`` False serves the API without consuming MQTT."""
    chosen_plugins = default_plugins(settings) if plugins is None else list(plugins)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        await run_in_threadpool(upgrade_to_head, engine)
        if locator is None:
            chosen_locator = await run_in_threadpool(load_locator, settings)
        else:
            chosen_locator = locator
        services = Services(
            settings=settings,
            engine=engine,
            session_factory=make_session_factory(engine),
            locator=chosen_locator,
        )
        app.state.services = services
        try:
            async with AsyncExitStack() as stack:
                services.listeners.append(_publisher_of_changes(services.bus))
                for plugin in chosen_plugins:
                    await stack.enter_async_context(plugin.lifespan(services))
                # What startup loaded (geodata shapes, ORM mappers, routes) lives as long as the
                # app: left out of every garbage collection, which then cost ingest ~5 % less.
                gc.freeze()
                if ingest:
                    services.relay = ChangeRelay(
                        MqttEndpoint.from_url(settings.mqtt_url),
                        settings.instance_id,
                        services.bus,
                        services.metrics,
                    )
                    services.relay.start()
                    services.consumer = _build_consumer(services)
                    services.consumer.start()
                try:
                    yield
                finally:
                    # Live pages end their streams first: the server waits for them to stop.
                    services.bus.close()
                    if services.consumer is not None:
                        await run_in_threadpool(services.consumer.stop)
                    if services.relay is not None:
                        await run_in_threadpool(services.relay.stop)
        finally:
            engine.dispose()

    app = FastAPI(
        title="vigifeu central",
        version="1",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        # The interactive docs load JavaScript from a CDN; the JSON schema is enough offline.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX)
    for plugin in chosen_plugins:
        plugin.install(app)
    return app
