"""``vigifeu schema``: regenerate the JSON Schemas of the wire contract."""

from __future__ import annotations

import argparse
from pathlib import Path

from contracts.schema import write_schemas


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("docs/contract"))


def run(args: argparse.Namespace) -> int:
    for path in write_schemas(args.out):
        print(path)  # noqa: T201 - command output
    return 0
