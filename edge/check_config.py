"""``vigifeu check-config``: validate site files; one line per file, exit 1 if any is broken."""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

from edge.config import ConfigError, load_config


class _Placeholders(defaultdict[str, str]):
    """Every environment variable resolves, so the structure is checked without the secrets."""

    def __init__(self) -> None:
        super().__init__(lambda: "placeholder", os.environ)

    def __contains__(self, key: object) -> bool:
        return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="camera_configs/*.yaml")
    parser.add_argument(
        "--placeholder-env",
        action="store_true",
        help="accept unset ${VARIABLES} (check structure without the deployment's secrets)",
    )


def run(args: argparse.Namespace) -> int:
    environ = _Placeholders() if args.placeholder_env else os.environ
    failures = 0
    for path in args.paths:
        try:
            config = load_config(path, environ)
        except ConfigError as error:
            failures += 1
            print(f"error: {error}", file=sys.stderr)  # noqa: T201 - command output
            continue
        cameras = ", ".join(camera.id for camera in config.cameras)
        print(f"ok: {path}: site {config.site.id}, cameras {cameras}")  # noqa: T201
    return 1 if failures else 0
