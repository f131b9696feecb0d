"""``vigifeu bench ...``: accuracy, sequences, speed, video, all; compare, geo, ingest,
input-size, robustness and edge-footprint live in their modules.

Heavy imports (onnxruntime, matplotlib, ultralytics) happen inside the chosen command only.
``compare``, ``geo``, ``ingest``, ``input-size``, ``robustness`` and ``edge-footprint`` are parsed
by their own modules, imported when chosen: their sub-parser takes the rest of the command line
verbatim (``prefix_chars`` that no option uses). The first five expose ``add_arguments``/``run``;
``edge-footprint`` is a script with ``main(argv)``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast

from benchmarks.accuracy import EDGE_MIRRORS
from benchmarks.model import DEFAULT_REGISTRY
from benchmarks.sequences import DEFAULT_FRAME_INTERVAL_S

logger = logging.getLogger(__name__)

DELEGATED = {
    "geo": ("benchmarks.geo", "geolocation accuracy of the located alerts"),
    "compare": ("benchmarks.compare", "models' AP50 apart beyond the val set's noise?"),
    "ingest": ("benchmarks.ingest", "central ingest throughput and latency"),
    "input-size": ("benchmarks.input_size", "accuracy per millisecond of a checkpoint per size"),
    "robustness": ("benchmarks.robustness", "accuracy when the camera changes (noise, blur, ...)"),
}
SCRIPTS = {
    "edge-footprint": ("benchmarks.edge_footprint", "memory and CPU of the edge per camera"),
}
# sub-command -> function of benchmarks.commands (imported only when a command runs)
COMMANDS = {
    "accuracy": "accuracy",
    "sequences": "sequences",
    "speed": "speed",
    "video": "video",
    "all": "run_all",
}
INTERNAL = frozenset({"bench_command", "rest"})


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class ScriptModule(Protocol):
    def main(self, argv: list[str] | None = None) -> int: ...


def command_line(args: argparse.Namespace) -> str:
    """The command as it could be typed again (every option spelled out, in parse order).

    Booleans are the ``--flag`` / ``--no-flag`` pairs of ``BooleanOptionalAction``."""
    parts = ["vigifeu", "bench", args.bench_command]
    for dest, value in vars(args).items():
        option = dest.replace("_", "-")
        if dest in INTERNAL or value is None:
            continue
        if isinstance(value, bool):
            parts.append(f"--{option}" if value else f"--no-{option}")
        else:
            parts += [f"--{option}", str(value)]
    return " ".join(parts)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="default",
        help="registry name (default: the registry's default) or a path to an .onnx file",
    )
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")


def add_mirror_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        default=EDGE_MIRRORS,
        help="run the frame and its mirror, boxes averaged, as the edge does by default "
        "(--no-mirror: the frame alone)",
    )


def _add_accuracy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="YOLO data.yaml")
    parser.add_argument("--split", choices=["train", "val", "test"], default="val")
    _model_options(parser)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threshold", type=float, help="operating score (default: the registry's)")
    parser.add_argument("--limit", type=int, help="first N images only")
    add_mirror_option(parser)


def _add_sequences(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sequences", type=Path, required=True, help="sequences.csv")
    _model_options(parser)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--frame-interval-s",
        type=float,
        default=DEFAULT_FRAME_INTERVAL_S,
        help="spacing of a timeline that has no unix_time",
    )
    parser.add_argument("--camera-config", type=Path, help="take thresholds and masks from it")
    add_mirror_option(parser)
    parser.add_argument("--camera", help="camera id in --camera-config (default: the first)")
    for name, kind in (
        ("detection-score", float),
        ("window-frames", int),
        ("confirm-score", float),
        ("end-after-s", float),
    ):
        parser.add_argument(f"--{name}", type=kind, help="override the confirmation setting")


def _add_speed(parser: argparse.ArgumentParser) -> None:
    _model_options(parser)
    parser.add_argument("--images", type=Path, required=True, help="folder of frames")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=60, help="frames per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fp32", type=Path, help="FP32 .onnx (default: the registry parent)")
    parser.add_argument("--pt", type=Path, help="PyTorch checkpoint for ultralytics")
    parser.add_argument(
        "--ultralytics-onnx",
        type=Path,
        help="ONNX file for ultralytics' ONNX baseline (default: the FP32 parent)",
    )


def _add_video(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--camera-config", type=Path, required=True)
    parser.add_argument("--camera", help="camera id (default: the first of the file)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", help="registry name or .onnx (default: the config's)")
    parser.add_argument("--registry", type=Path, help="default: the config's")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="real seconds per second of footage"
    )
    parser.add_argument(
        "--start-at", help="capture time of the first frame, ISO 8601 (default 2000-01-01Z)"
    )


def _add_all(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shared", type=Path, required=True, help="the shared data folder")
    _model_options(parser)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True, help="RESULTS.md to refresh")
    parser.add_argument("--speed-limit", type=int, default=60)
    parser.add_argument("--speed-rounds", type=int, default=3)
    parser.add_argument(
        "--geo-fires", type=int, default=300, help="simulated fires per case of bench geo"
    )
    parser.add_argument(
        "--ingest",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run bench ingest (about 30 s)",
    )
    parser.add_argument(
        "--ingest-fires",
        type=int,
        default=200,
        help="bench ingest workload (2 x 10 alerts each)",
    )
    parser.add_argument(
        "--edge-footprint",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="run bench edge-footprint (about 3 min)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    own = (
        ("accuracy", _add_accuracy, "per-frame AP, P/R/F1 on a YOLO split"),
        ("sequences", _add_sequences, "time to detection and false alarms on timelines"),
        ("speed", _add_speed, "latency and frames/s of the edge path against the baselines"),
        ("video", _add_video, "recorded footage through the whole edge pipeline"),
        ("all", _add_all, "the standard benchmarks on the shared data; refresh RESULTS.md"),
    )
    for name, add, help_text in own:
        command = sub.add_parser(name, help=help_text, description=help_text)
        add(command)
    for name, (_, help_text) in (DELEGATED | SCRIPTS).items():
        command = sub.add_parser(name, help=help_text, add_help=False, prefix_chars="\x01")
        command.add_argument("rest", nargs="*", help="arguments of the delegated command")


def _delegate(args: argparse.Namespace) -> int:
    module_name, help_text = (DELEGATED | SCRIPTS)[args.bench_command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        logger.error("bench %s: %s is not part of this checkout", args.bench_command, module_name)
        return 2
    if args.bench_command in SCRIPTS:
        return cast(ScriptModule, module).main(list(args.rest))
    command = cast(CommandModule, module)
    parser = argparse.ArgumentParser(
        prog=f"vigifeu bench {args.bench_command}", description=help_text
    )
    command.add_arguments(parser)
    return command.run(parser.parse_args(args.rest))


def run(args: argparse.Namespace) -> int:
    if args.bench_command in DELEGATED or args.bench_command in SCRIPTS:
        return _delegate(args)
    from benchmarks import commands

    command = cast(
        Callable[[argparse.Namespace, str], int], getattr(commands, COMMANDS[args.bench_command])
    )
    return command(args, command_line(args))
