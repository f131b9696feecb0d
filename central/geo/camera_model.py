"""Pixel <-> viewing direction for a lookout camera: lens projection, Brown k1/k2, heading/tilt/roll.

Conventions (research note geolocation-methods §1-2):

* Pixels (u, v): u to the right, v down, (0, 0) the top-left corner of the top-left pixel.
  The principal point is the image centre (W/2, H/2).
* Camera frame: x right, y down, z forward. Ideal normalised coordinates (x, y) have radius
  r = tan(theta) for a rectilinear lens and r = theta (radians) for an equidistant (f-theta) lens,
  theta being the angle off the optical axis. Brown radial distortion maps r to
  r_d = r (1 + k1 r^2 + k2 r^4); then u = cx + fx x_d and v = cy + fy y_d.
* ``hfov_deg`` / ``vfov_deg`` are the full angles seen across the horizontal / vertical centre
  lines, so fx and fy are derived from them separately (never one FOV from the other: the
  87 x 44 deg of the 06 cameras does not fit an undistorted 16:9 rectilinear lens).
* World: azimuth clockwise from true north, elevation above the horizontal, in degrees. Tilt is
  the elevation of the optical axis; positive roll turns the camera clockwise as seen from
  behind (the right half of the image then looks below the horizon).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

import contracts

FloatArray = npt.NDArray[np.float64]
Projection = Literal["rectilinear", "equidistant"]
_NEWTON_STEPS = 12


def _angle_to_radius(theta_rad: FloatArray, projection: Projection) -> FloatArray:
    return np.tan(theta_rad) if projection == "rectilinear" else theta_rad


def _radius_to_angle(radius: FloatArray, projection: Projection) -> FloatArray:
    return np.arctan(radius) if projection == "rectilinear" else radius


@dataclass(frozen=True, slots=True)
class CameraModel:
    width_px: int
    height_px: int
    fx_px: float
    fy_px: float
    projection: Projection
    k1: float
    k2: float
    heading_deg: float
    tilt_deg: float
    roll_deg: float

    @classmethod
    def from_geometry(cls, geometry: contracts.CameraGeometry) -> CameraModel:
        lens = geometry.lens
        return cls(
            width_px=geometry.image_width_px,
            height_px=geometry.image_height_px,
            fx_px=focal_from_fov_px(
                geometry.image_width_px, geometry.hfov_deg, lens.projection, lens.k1, lens.k2
            ),
            fy_px=focal_from_fov_px(
                geometry.image_height_px, geometry.vfov_deg, lens.projection, lens.k1, lens.k2
            ),
            projection=lens.projection,
            k1=lens.k1,
            k2=lens.k2,
            heading_deg=geometry.azimuth_deg,
            tilt_deg=geometry.tilt_deg,
            roll_deg=geometry.roll_deg,
        )

    @property
    def cx_px(self) -> float:
        return self.width_px / 2

    @property
    def cy_px(self) -> float:
        return self.height_px / 2

    def distort(self, r: FloatArray) -> FloatArray:
        r2 = r * r
        return r * (1 + self.k1 * r2 + self.k2 * r2 * r2)

    def undistort(self, r_d: FloatArray) -> FloatArray:
        """Invert ``distort`` by Newton's method (monotonic over the image for sane k1, k2)."""
        r = np.array(r_d, dtype=np.float64)
        if self.k1 == 0.0 and self.k2 == 0.0:
            return r
        for _ in range(_NEWTON_STEPS):
            r2 = r * r
            slope = 1 + 3 * self.k1 * r2 + 5 * self.k2 * r2 * r2
            r = r - (self.distort(r) - r_d) / np.where(np.abs(slope) < 1e-6, 1e-6, slope)
        return r

    def pixel_to_direction(
        self, u_px: npt.ArrayLike, v_px: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """(azimuth_deg in [0, 360), elevation_deg) of the ray through each pixel."""
        x_d = (np.asarray(u_px, dtype=np.float64) - self.cx_px) / self.fx_px
        y_d = (np.asarray(v_px, dtype=np.float64) - self.cy_px) / self.fy_px
        r_d = np.hypot(x_d, y_d)
        r = self.undistort(r_d)
        theta = _radius_to_angle(r, self.projection)
        scale = np.where(r_d > 0, np.sin(theta) / np.where(r_d > 0, r_d, 1.0), 0.0)
        x, y, z = x_d * scale, y_d * scale, np.cos(theta)
        phi, tau = math.radians(self.roll_deg), math.radians(self.tilt_deg)
        x_r = x * math.cos(phi) - y * math.sin(phi)
        y_r = x * math.sin(phi) + y * math.cos(phi)
        east = x_r
        north = z * math.cos(tau) + y_r * math.sin(tau)
        up = z * math.sin(tau) - y_r * math.cos(tau)
        azimuth = np.mod(self.heading_deg + np.degrees(np.arctan2(east, north)), 360.0)
        elevation = np.degrees(np.arctan2(up, np.hypot(east, north)))
        return azimuth, elevation

    def direction_to_pixel(
        self, azimuth_deg: npt.ArrayLike, elevation_deg: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """(u_px, v_px) where each direction images; NaN behind the camera."""
        a = np.radians(np.asarray(azimuth_deg, dtype=np.float64) - self.heading_deg)
        e = np.radians(np.asarray(elevation_deg, dtype=np.float64))
        east, north, up = np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e)
        phi, tau = math.radians(self.roll_deg), math.radians(self.tilt_deg)
        z = north * math.cos(tau) + up * math.sin(tau)
        y_r = north * math.sin(tau) - up * math.cos(tau)
        x = east * math.cos(phi) + y_r * math.sin(phi)
        y = -east * math.sin(phi) + y_r * math.cos(phi)
        in_front = z > 0
        rho = np.hypot(x, y)
        theta = np.arctan2(rho, z)
        r = _angle_to_radius(np.where(in_front, theta, 0.0), self.projection)
        r_d = self.distort(r)
        scale = np.where(rho > 0, r_d / np.where(rho > 0, rho, 1.0), 0.0)
        u = np.where(in_front, self.cx_px + self.fx_px * x * scale, np.nan)
        v = np.where(in_front, self.cy_px + self.fy_px * y * scale, np.nan)
        return u, v

    def ifov_deg(self) -> tuple[float, float]:
        """Angle of one pixel at the image centre, horizontally and vertically."""
        return math.degrees(1 / self.fx_px), math.degrees(1 / self.fy_px)


def focal_from_fov_px(
    size_px: int, fov_deg: float, projection: Projection, k1: float, k2: float
) -> float:
    """Focal length (px) that puts the image edge ``fov_deg / 2`` off-axis along that axis."""
    r = float(_angle_to_radius(np.array(math.radians(fov_deg / 2)), projection))
    r_d = r * (1 + k1 * r * r + k2 * r**4)
    if r_d <= 0:
        raise ValueError(f"lens k1={k1}, k2={k2} folds the image edge at {fov_deg} deg")
    return (size_px / 2) / r_d
