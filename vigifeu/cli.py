"""The ``vigifeu`` command: one entry point, one module per subcommand, imported on demand.

Each subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int``. Only the module
of the chosen subcommand is imported, so ``vigifeu edge`` never imports torch or FastAPI.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Protocol, cast

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "edge": ("edge.main", "run the edge worker of one camera site"),
    "central": ("central.main", "run the central service (MQTT ingest, API, console)"),
    "demo": ("vigifeu.demo", "run the whole chain locally on a bundled smoke clip"),
    "check-config": ("edge.check_config", "validate camera site configuration files"),
    "bench": ("benchmarks.cli", "accuracy, sequences, speed, video and geolocation benchmarks"),
    "train": ("vigifeu.training.train", "train the smoke/fire detector offline"),
    "export": ("vigifeu.training.export", "export a checkpoint to FP32 and INT8 ONNX, gated"),
    "epochs": ("vigifeu.training.epochs", "smoke AP50 of each epoch checkpoint of a training run"),
    "calibrate": ("central.geo.calibrate_cli", "fit a camera's heading/tilt/roll from landmarks"),
    "export-labels": ("central.labels", "write operator verdicts as a YOLO dataset"),
    "operator": ("central.console.operators", "create console operator accounts"),
    "schema": ("contracts.schema_cli", "write the wire-contract JSON Schemas into docs/"),
    "dataset": ("vigifeu.datasets.cli", "convert and check YOLO datasets"),
}


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigifeu",
        description="Self-hosted wildfire smoke detection for forest lookout cameras.",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    known, rest = top.parse_known_args(arguments)
    module_name, help_text = COMMANDS[known.command]
    module = cast(CommandModule, importlib.import_module(module_name))
    parser = argparse.ArgumentParser(prog=f"vigifeu {known.command}", description=help_text)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    logging.basicConfig(
        level=getattr(logging, known.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return module.run(args)


if __name__ == "__main__":
    sys.exit(main())
