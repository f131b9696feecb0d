"""The console + dispatch plugin of central (see ``central.app.PLUGIN_MODULES``).

``install`` adds the pages, the live stream, the static files and the dispatch API;
``lifespan`` builds what they share (``ConsoleState``), registers the ingest listener that
pushes changes to open pages, seeds the first administrator and runs the dispatch worker.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from central.api.schemas import API_PREFIX
from central.console.auth import LoginThrottle, SessionSigner
from central.console.maps import MapLayers, load_layers
from central.console.operators import ensure_admin
from central.console.settings import ConsoleSettings
from central.dispatch.channels import Sender, build_senders
from central.dispatch.config import DispatchConfig, load_dispatch_config
from central.dispatch.links import Links
from central.dispatch.service import DispatchService
from central.dispatch.worker import DispatchWorker
from central.events_bus import EventBus
from central.incidents.locating import Locator
from central.services import Services
from central.settings import CentralSettings

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent


@dataclass
class ConsoleState:
    """What the console routes share while the app runs."""

    settings: ConsoleSettings
    sessions: sessionmaker[Session]
    signer: SessionSigner
    throttle: LoginThrottle
    bus: EventBus
    dispatcher: DispatchService | None
    worker: DispatchWorker | None
    layers: MapLayers
    locator: Locator  # re-locates incidents that an operator merges or splits


class ConsolePlugin:
    def __init__(
        self,
        settings: CentralSettings,
        console: ConsoleSettings | None = None,
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self.central = settings
        self.console = console or ConsoleSettings()
        self._senders = senders
        self.dispatch_config: DispatchConfig | None = (
            load_dispatch_config(self.console.dispatch_config)
            if self.console.dispatch_config
            else None
        )
        self.templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")
        self.state: ConsoleState | None = None

    def install(self, app: FastAPI) -> None:
        from central.console.export import router as export_router
        from central.console.live import router as live_router
        from central.console.login import install_login_redirect
        from central.console.login import router as login_router
        from central.console.pages import router as pages_router
        from central.dispatch.api import router as dispatch_router

        app.state.console = self
        app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
        for router in (login_router, pages_router, live_router, export_router):
            app.include_router(router)
        app.include_router(dispatch_router, prefix=API_PREFIX)
        install_login_redirect(app)

    def _seed_admin(self, sessions: sessionmaker[Session]) -> None:
        if self.console.admin_username and self.console.admin_password:
            with sessions.begin() as session:
                ensure_admin(
                    session,
                    self.console.admin_username,
                    self.console.admin_password.get_secret_value(),
                )

    @asynccontextmanager
    async def lifespan(self, services: Services) -> AsyncIterator[None]:
        sessions = services.session_factory
        await run_in_threadpool(self._seed_admin, sessions)
        layers = await run_in_threadpool(load_layers)
        bus = services.bus
        async with httpx.AsyncClient() as client:
            dispatcher = worker = None
            if self.dispatch_config is not None:
                senders = self._senders or build_senders(self.dispatch_config, client)
                dispatcher = DispatchService(
                    self.dispatch_config,
                    sessions,
                    Links(self.console.public_url),
                    senders,
                    bus,
                )
                worker = DispatchWorker(dispatcher, self.console.dispatch_tick_s)
                worker.start()
            self.state = ConsoleState(
                settings=self.console,
                sessions=sessions,
                signer=SessionSigner(
                    self.central.secret_key.get_secret_value(), self.console.session_max_age_s
                ),
                throttle=LoginThrottle(),
                bus=bus,
                dispatcher=dispatcher,
                worker=worker,
                layers=layers,
                locator=services.locator,
            )
            try:
                yield
            finally:
                if worker is not None:
                    await worker.stop()
                self.state = None


def plugin(settings: CentralSettings) -> ConsolePlugin:
    return ConsolePlugin(settings)
