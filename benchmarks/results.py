"""``vigifeu bench all``: the standard benchmark set on the shared data, then ``RESULTS.md``.

Each step is an ordinary ``vigifeu bench`` command line, parsed and run as typed, so the commands
written into RESULTS.md are exactly the ones that produced its figures. A step that fails is
recorded with its reason and the others still run. Without a shipped model (no registry file) the
detector steps are planned but not run, and RESULTS.md says that they await one; geolocation and
ingest do not need a model and always run.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from benchmarks.model import BenchModel, load_model, parent_model
from edge.detect.registry import RegistryError

logger = logging.getLogger(__name__)

Group = Literal["detector", "geo", "ingest", "edge_footprint"]
Status = Literal["done", "failed", "awaiting", "skipped"]
STATUS_TEXT: dict[Status, str] = {
    "done": "done",
    "failed": "FAILED",
    "awaiting": "awaits a shipped model",
    "skipped": "skipped",
}
# Issue 6 states its geolocation targets at these settings (calibrated cameras, up to 20 km).
GEO_SETTINGS = ("--bearing-sigma-deg", "0.3", "--tilt-sigma-deg", "0.1", "--max-range-km", "20")
INGEST_UPDATES = 8  # per camera event: each fire gives 2 cameras x (start + 8 updates + end)
REASON_CHARS = 400  # a failure reason is one table cell, not a traceback


@dataclass(frozen=True, slots=True)
class Step:
    key: str  # output sub-folder, and the name of the step in RESULTS.md
    group: Group
    argv: tuple[str, ...]  # arguments after 'vigifeu bench'
    out: Path  # the folder where the step writes metrics.json

    @property
    def command(self) -> str:
        return "vigifeu bench " + " ".join(self.argv)


@dataclass(frozen=True, slots=True)
class Options:
    threads: int = 2
    speed_limit: int = 60
    speed_rounds: int = 3
    geo_fires: int = 300
    ingest: bool = True
    # 4000 alerts: with 1200 the first batches (cold caches, a new database) weighed on the
    # rate, and two runs the same hour differed by 20 %.
    ingest_fires: int = 200
    edge_footprint: bool = False


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step
    status: Status
    metrics: dict[str, Any] | None = None
    reason: str | None = None  # why it failed, awaits or was skipped
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BenchRun:
    command: str
    commit: str
    uncommitted: tuple[str, ...]  # Python files that differed from the commit during the run
    started_at: datetime
    model: BenchModel | None
    results: dict[str, StepResult]  # by step key, in run order

    def metrics_of(self, key: str) -> dict[str, Any] | None:
        """The metrics of a step that ran to the end, else None."""
        result = self.results.get(key)
        return result.metrics if result is not None and result.status == "done" else None


def verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT met", None: "not measured"}[met]


def _step(key: str, group: Group, out: Path, *argv: str) -> Step:
    """A step writing into ``out / key`` (given as ``--out``; the edge footprint script names the
    metrics file itself with ``--output``)."""
    folder = out / key
    where = ("--output", str(folder / "metrics.json")) if group == "edge_footprint" else None
    return Step(key, group, (*argv, *(where or ("--out", str(folder)))), folder)


def detector_steps(
    shared: Path, model: str, fp32: str | None, registry: Path, out: Path, options: Options
) -> list[Step]:
    """Accuracy on both val splits (model, then its FP32 parent) as the edge runs them (the
    frame and its mirror), the same on hpwren val with the frame alone, accuracy of the model on
    the extra set's train split (for its hard negatives), robustness to camera changes,
    sequences and speed."""
    hpwren = shared / "datasets" / "wildfire_smoke_hpwren"
    extra = shared / "datasets" / "wildfire_extra"
    common = ("--registry", str(registry), "--threads", str(options.threads))

    def accuracy(key: str, data: Path, split: str, name: str, *views: str) -> Step:
        argv = ("--data", str(data / "data.yaml"), "--split", split, "--model", name, *common)
        return _step(key, "detector", out, "accuracy", *argv, *views)

    models = ((model, ""), *(((fp32, "_fp32"),) if fp32 else ()))
    steps = [
        accuracy(f"accuracy_{label}{suffix}", data, "val", name)
        for name, suffix in models
        for label, data in (("hpwren", hpwren), ("extra", extra))
    ]
    steps += [
        accuracy(f"accuracy_hpwren{suffix}_single", hpwren, "val", name, "--no-mirror")
        for name, suffix in models
    ]
    sequences = ("--sequences", str(hpwren / "sequences" / "sequences.csv"))
    speed = ("--images", str(hpwren / "images" / "val"), "--limit", str(options.speed_limit))
    rounds = ("--rounds", str(options.speed_rounds))
    robustness = ("--data", str(hpwren / "data.yaml"), "--split", "val", "--model", model)
    return [
        *steps,
        accuracy("accuracy_extra_train", extra, "train", model),
        _step("robustness", "detector", out, "robustness", *robustness, *common),
        _step("sequences", "detector", out, "sequences", *sequences, "--model", model, *common),
        _step("speed", "detector", out, "speed", "--model", model, *common, *speed, *rounds),
    ]


def service_steps(registry: Path, out: Path, options: Options) -> list[Step]:
    """Geolocation, central ingest and the edge footprint: none needs the shipped model (the
    footprint falls back to the tiny test detector and says so)."""
    ingest = ("--fires", str(options.ingest_fires), "--updates", str(INGEST_UPDATES))
    return [
        _step("geo", "geo", out, "geo", "--fires", str(options.geo_fires), *GEO_SETTINGS),
        _step("ingest", "ingest", out, "ingest", *ingest),
        # The shared subscription is how central scales: two instances, one per core here.
        _step("ingest_2_instances", "ingest", out, "ingest", *ingest, "--instances", "2"),
        _step(
            "edge_footprint",
            "edge_footprint",
            out,
            *("edge-footprint", "--cameras", "1", "4", "--registry", str(registry)),
        ),
    ]


def _skipped(step: Step, options: Options) -> str | None:
    """Why an optional step is left out of this run, if it is."""
    if step.group == "ingest" and not options.ingest:
        return "--no-ingest was given"
    if step.group == "edge_footprint" and not options.edge_footprint:
        return "off by default (about 3 min): add --edge-footprint to run it"
    return None


class _ErrorLog(logging.Handler):
    """Keeps the ERROR records logged while a step runs: the last one is its failure reason."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= REASON_CHARS else flat[: REASON_CHARS - 1] + "…"


def run_step(step: Step) -> StepResult:
    """Run one step as typed; any failure (error exit, exception, rejected arguments) becomes a
    failed result with its reason, so the steps after it still run."""
    from benchmarks import cli

    parser = argparse.ArgumentParser(prog="vigifeu bench")
    cli.add_arguments(parser)
    metrics_path = step.out / "metrics.json"
    metrics_path.unlink(missing_ok=True)  # a stale file must not pass for this run's figures
    step.out.mkdir(parents=True, exist_ok=True)
    errors = _ErrorLog()
    root = logging.getLogger()
    root.addHandler(errors)
    logger.info("bench all: %s", step.command)
    try:
        code = cli.run(parser.parse_args(list(step.argv)))
        if code != 0:
            reason = errors.messages[-1] if errors.messages else f"exit code {code}"
        else:
            metrics: dict[str, Any] = json.loads(metrics_path.read_text(encoding="utf-8"))
            return StepResult(step, "done", metrics, None, datetime.now(UTC))
    except SystemExit as error:  # argparse: the module's options changed under this plan
        reason = f"command line rejected (exit {error.code}; argparse's message is in the log)"
    except Exception as error:  # one broken benchmark must not stop the others
        reason = f"{type(error).__name__}: {error}"
        logger.exception("bench all: step %s raised", step.key)
    finally:
        root.removeHandler(errors)
    logger.error("bench all: step %s failed: %s", step.key, reason)
    return StepResult(step, "failed", None, _one_line(reason), datetime.now(UTC))


def _git(*argv: str) -> str:
    try:
        found = subprocess.run(["git", *argv], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return found.stdout if found.returncode == 0 else ""


def git_state() -> tuple[str, tuple[str, ...]]:
    """HEAD, and the Python files that differ from it (other work in the tree at run time)."""
    commit = _git("rev-parse", "--short", "HEAD").strip() or "unknown"
    return commit, tuple(_git("diff", "--name-only", "HEAD", "--", "*.py").split())


def shipped_model(
    model_name: str, registry: Path
) -> tuple[BenchModel | None, BenchModel | None, StepResult | None]:
    """The model and its FP32 parent, or why the detector steps cannot run (as the result that
    they all get)."""
    placeholder = Step("detector", "detector", (), Path())
    if Path(model_name).suffix != ".onnx" and not registry.is_file():
        reason = f"{registry} does not exist yet"
        return None, None, StepResult(placeholder, "awaiting", reason=reason)
    try:
        model = load_model(model_name, registry)
        return model, parent_model(model), None
    except (RegistryError, FileNotFoundError) as error:
        reason = f"model {model_name!r} cannot be loaded: {error}"
        return None, None, StepResult(placeholder, "failed", reason=_one_line(reason))


def run_all_benchmarks(
    *,
    shared: Path,
    model_name: str,
    registry: Path,
    out: Path,
    results: Path,
    options: Options,
    command: str,
) -> int:
    """Run every step, write ``results``; 0 when no step failed, else 1."""
    from benchmarks.results_report import results_markdown

    started_at = datetime.now(UTC)
    model, parent, blocked = shipped_model(model_name, registry)
    steps = detector_steps(
        shared, model_name, parent.info.name if parent else None, registry, out, options
    )
    steps += service_steps(registry, out, options)
    outcomes: dict[str, StepResult] = {}
    for step in steps:
        if step.group == "detector" and blocked is not None:
            outcomes[step.key] = StepResult(step, blocked.status, reason=blocked.reason)
        elif (why := _skipped(step, options)) is not None:
            outcomes[step.key] = StepResult(step, "skipped", reason=why)
        else:
            outcomes[step.key] = run_step(step)
    run = BenchRun(command, *git_state(), started_at, model, outcomes)
    results.write_text(results_markdown(run), encoding="utf-8")
    failed = [key for key, result in outcomes.items() if result.status == "failed"]
    logger.info("bench all: %s refreshed; failed steps: %s", results, failed or "none")
    return 1 if failed else 0
