"""``vigifeu calibrate``: fit a camera's heading/tilt/roll (and k1) from landmarks and report.

The landmarks file (YAML) gives the camera geometry as in an alert (``camera:``, the fields of
``contracts.CameraGeometry``) or takes it from a site file (``--config`` + ``--camera``
[+ ``--pose``] + ``--image-size``), and lists the landmarks picked in a frame::

    camera: {latitude_deg: 43.7866, longitude_deg: 7.4196, lens_altitude_m: 1080,
             azimuth_deg: 0, tilt_deg: 0, hfov_deg: 87, vfov_deg: 44,
             image_width_px: 1920, image_height_px: 1080}
    landmarks:
      - {name: Cime du Simon, u_px: 839.8, v_px: 513.6}         # position from the peaks layer
      - {name: relay mast, u_px: 1502, v_px: 530, latitude_deg: 43.93, longitude_deg: 7.47,
         altitude_m: 1210}

Peaks are looked up by name in the OSM peaks layer, with OSM's surveyed ``ele`` (SRTM summits
are 20-40 m low in the 06: 0.14 deg of tilt at 16 km). Exit status: 0 fitted, 3 fitted and
drift flagged, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pydantic
import yaml

import contracts
from central.geo.calibrate import (
    Calibration,
    CalibrationError,
    Landmark,
    fit_camera,
    landmark_spread_fraction,
)
from central.geo.geodata import GeoData, load_geodata

logger = logging.getLogger(__name__)

EXIT_DRIFT = 3
EXIT_BAD_INPUT = 2
MIN_SPREAD = 0.3


class _NoSecrets(Mapping[str, str]):
    """Environment for reading a site file without its camera credentials (unused here)."""

    def __getitem__(self, key: str) -> str:
        return "unused"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __contains__(self, key: object) -> bool:
        return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--landmarks", type=Path, required=True, help="YAML landmarks file")
    parser.add_argument("--config", type=Path, help="site file giving the camera geometry")
    parser.add_argument("--camera", help="camera id in --config")
    parser.add_argument("--pose", help="PTZ pose id of --camera")
    parser.add_argument("--image-size", help="WIDTHxHEIGHT of the frame, with --config")
    parser.add_argument("--fit-lens", choices=["auto", "yes", "no"], default="auto")
    parser.add_argument("--geodata", type=Path, help="geodata folder (default: committed)")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")


def _geometry_from_config(args: argparse.Namespace) -> contracts.CameraGeometry:
    from edge.config import load_config

    if not args.camera or not args.image_size:
        raise CalibrationError("--config needs --camera and --image-size WIDTHxHEIGHT")
    config = load_config(args.config, _NoSecrets())
    camera = next((c for c in config.cameras if c.id == args.camera), None)
    if camera is None:
        raise CalibrationError(f"{args.config}: no camera {args.camera!r}")
    pose = next((p for p in camera.poses if p.id == args.pose), None) if args.pose else None
    if args.pose and pose is None:
        raise CalibrationError(f"{args.config}: camera {args.camera!r} has no pose {args.pose!r}")
    width, _, height = args.image_size.partition("x")
    return contracts.CameraGeometry(
        latitude_deg=config.site.latitude_deg,
        longitude_deg=config.site.longitude_deg,
        lens_altitude_m=config.site.lens_altitude_m,
        pose_id=args.pose,
        azimuth_deg=pose.heading_deg if pose else camera.heading_deg,
        tilt_deg=pose.tilt_deg if pose else camera.tilt_deg,
        roll_deg=camera.roll_deg,
        hfov_deg=camera.hfov_deg,
        vfov_deg=camera.vfov_deg,
        image_width_px=int(width),
        image_height_px=int(height),
        lens=contracts.LensModel.model_validate(camera.lens.model_dump()),
    )


def _landmark(entry: Mapping[str, Any], geodata: GeoData) -> Landmark:
    name = str(entry["name"])
    if "latitude_deg" in entry:
        return Landmark(
            name,
            float(entry["u_px"]),
            float(entry["v_px"]),
            float(entry["longitude_deg"]),
            float(entry["latitude_deg"]),
            float(entry["altitude_m"]),
        )
    peak = next((p for p in geodata.peaks if p.name.casefold() == name.casefold()), None)
    if peak is None:
        raise CalibrationError(f"landmark {name!r}: no position given and no peak of that name")
    elevation = peak.properties.get("ele")
    if elevation is None:
        if geodata.dem is None:
            raise CalibrationError(f"landmark {name!r}: peak has no ele and there is no DEM")
        elevation = float(geodata.dem.elevation_m(peak.longitude_deg, peak.latitude_deg))
        logger.warning("landmark %r: no surveyed height, using the DEM (%.0f m)", name, elevation)
    return Landmark(
        name,
        float(entry["u_px"]),
        float(entry["v_px"]),
        peak.longitude_deg,
        peak.latitude_deg,
        float(elevation),
    )


def _print(calibration: Calibration, geometry: contracts.CameraGeometry) -> None:
    lines = [
        f"{'landmark':<28} {'distance km':>11} {'d_azimuth':>10} {'d_elevation':>12}",
        *(
            f"{r.name:<28} {r.distance_m / 1000:>11.2f} {r.azimuth_deg:>+10.3f} {r.elevation_deg:>+12.3f}"
            for r in calibration.residuals
        ),
        f"RMS {calibration.rms_deg:.3f} deg fitted, {calibration.stored_rms_deg:.3f} deg under the stored pose",
        f"heading_deg: {calibration.heading_deg:.3f}   # was {geometry.azimuth_deg:.3f}",
        f"tilt_deg: {calibration.tilt_deg:.3f}   # was {geometry.tilt_deg:.3f}",
        f"roll_deg: {calibration.roll_deg:.3f}   # was {geometry.roll_deg:.3f}",
    ]
    if calibration.lens_fitted:
        lines.append(f"lens k1: {calibration.k1:.4f}   # was {geometry.lens.k1:.4f}")
    lines.append(f"DRIFT: {calibration.drift}" if calibration.drift else "no drift")
    print("\n".join(lines))  # noqa: T201 - command output


def run(args: argparse.Namespace) -> int:
    try:
        document = yaml.safe_load(args.landmarks.read_text(encoding="utf-8"))
        geodata = load_geodata(args.geodata)
        if args.config:
            geometry = _geometry_from_config(args)
        else:
            geometry = contracts.CameraGeometry.model_validate(document["camera"])
        landmarks = [_landmark(entry, geodata) for entry in document["landmarks"]]
        fit_lens = {"auto": None, "yes": True, "no": False}[args.fit_lens]
        calibration = fit_camera(geometry, landmarks, fit_lens)
    except (
        OSError,
        yaml.YAMLError,
        KeyError,
        TypeError,
        ValueError,
        pydantic.ValidationError,
    ) as error:
        logger.error("%s: %s", args.landmarks, error)
        return EXIT_BAD_INPUT
    if landmark_spread_fraction(landmarks, geometry.image_width_px) < MIN_SPREAD:
        logger.warning(
            "landmarks span under %.0f %% of the width: roll is poorly constrained",
            100 * MIN_SPREAD,
        )
    _print(calibration, geometry)
    if args.out:
        args.out.write_text(json.dumps(asdict(calibration), indent=2) + "\n", encoding="utf-8")
    return EXIT_DRIFT if calibration.drift else 0
