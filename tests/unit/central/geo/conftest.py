"""Geolocation test fixtures: the committed geodata, loaded once."""

from __future__ import annotations

import pytest

from central.geo import GeoData, load_geodata


@pytest.fixture(scope="session")
def geodata() -> GeoData:
    return load_geodata()
