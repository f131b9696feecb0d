"""Registry entries and model cards of an exported model pair, and their publication in models/.

The FP32 entry's parent is its PyTorch checkpoint (published beside it with the same stem, which
is where the benchmarks look for it); the INT8 entry's parent is the FP32 entry. Licences follow
the data: a model trained on CC BY-NC-SA images inherits that licence, and one initialised from
the YOLOv5n COCO weights is a derivative of GPL-3.0 weights.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.detect.registry import (
    InputRectangle,
    OperatingThresholds,
    RegisteredModel,
    Registry,
    file_sha256,
    load_registry,
)
from vigifeu.training.card import render_card
from vigifeu.training.recipe import RUN_FILE, Recipe
from vigifeu.training.report import read_results, write_training_report

if TYPE_CHECKING:
    from vigifeu.training.export import ExportOutcome

logger = logging.getLogger(__name__)

CLASSES = ["smoke", "fire"]
# Licence of each shared dataset, by folder name (see each dataset's README).
DATA_LICENCES = {
    "wildfire_smoke_hpwren": "CC BY-NC-SA 4.0 (AI For Mankind + HPWREN; FIgLib frames: HPWREN)",
    "wildfire_extra": "CC BY 4.0 as declared (Roboflow try20; stock-photo rights unverified) "
    "+ Multi-class Weather Dataset (licence to verify)",
}
COCO_INIT_LICENCE = "GPL-3.0 (YOLOv5n COCO weights, ultralytics/yolov5 commit 981548a)"


@dataclass(frozen=True, slots=True)
class Provenance:
    """What the training run folder says about how the checkpoint was made."""

    run_dir: Path | None
    run: dict[str, Any]  # run.json ({} if unknown)
    epochs_completed: int | None  # rows of results.csv
    checkpoint_epoch: int | None  # 1-based epoch the checkpoint was saved at

    @property
    def init(self) -> str:
        return str(self.run.get("recipe", {}).get("init", "unknown"))

    @property
    def lookout_datasets(self) -> list[str]:
        """Names of the lookout sets (runs before 2026-11-30 recorded one, as ``lookout``)."""
        paths = self.run.get("lookouts") or [self.run.get("lookout")]
        return [Path(str(path)).name for path in paths if path]

    @property
    def datasets(self) -> list[str]:
        extra = self.run.get("extra")
        return [*self.lookout_datasets, *([Path(str(extra)).name] if extra else [])]


def best_epoch(results_csv: Path) -> int | None:
    """The epoch ultralytics keeps as best.pt: highest fitness, which is mAP50-95 in 8.4."""
    columns = read_results(results_csv)
    fitness = columns.get("metrics/mAP50-95(B)")
    epochs = columns.get("epoch")
    if not fitness or not epochs:
        return None
    return int(epochs[fitness.index(max(fitness))])


def load_provenance(
    run_dir: Path | None, checkpoint_epoch: int | None, checkpoint: Path | None = None
) -> Provenance:
    """What the run folder says. A finished run's best.pt no longer records its epoch (ultralytics
    strips it): it is then read back from results.csv."""
    if run_dir is None:
        return Provenance(None, {}, None, checkpoint_epoch)
    run_json = run_dir / RUN_FILE
    results = run_dir / "train" / "results.csv"
    run = json.loads(run_json.read_text(encoding="utf-8")) if run_json.is_file() else {}
    if not results.is_file():
        return Provenance(run_dir, run, None, checkpoint_epoch)
    rows = results.read_text(encoding="utf-8").strip().splitlines()[1:]
    if checkpoint_epoch is None and checkpoint is not None and checkpoint.name == "best.pt":
        checkpoint_epoch = best_epoch(results)
    return Provenance(run_dir, run, len(rows), checkpoint_epoch)


def licence_text(provenance: Provenance) -> str:
    parts = [DATA_LICENCES.get(name, f"{name}: see its README") for name in provenance.datasets]
    if any("NC-SA" in part for part in parts):
        parts.insert(0, "CC BY-NC-SA 4.0 inherited from the training data (non-commercial)")
    if provenance.init == "coco-yolov5n":
        parts.append(COCO_INIT_LICENCE)
    return "; ".join(parts) or "unknown: trained outside a recorded run"


def training_data_text(provenance: Provenance) -> str:
    data = provenance.run.get("recipe", {}).get("data", {})
    lookouts = provenance.lookout_datasets
    if not lookouts:
        return "unknown"
    text = " + ".join(f"{name} train" for name in lookouts)
    extra = provenance.run.get("extra")
    if extra:
        text += (
            f" + {Path(str(extra)).name} train (images with a smoke box only: "
            f"{data.get('extra_require_smoke_box')}, {data.get('extra_negatives_train')} "
            "sampled sky negatives)"
        )
    pasted = data.get("pasted_plumes_per_lookout_image") or 0
    if pasted:
        text += (
            f" + {pasted:g} x the lookout frames again, each with one of their plumes pasted "
            "elsewhere"
        )
    return text + f"; banner rows blanked: {data.get('banner_height_fraction')}"


def build_entries(
    outcome: ExportOutcome, files: dict[str, str], provenance: Provenance
) -> dict[str, RegisteredModel]:
    """The FP32 and INT8 entries (those ``files`` has); ``files`` maps fp32/int8/pt to paths
    relative to the registry, and fp32_sha256/int8_sha256 to their digests."""
    plan = outcome.plan
    entries: dict[str, RegisteredModel] = {}
    for kind, parent in (("fp32", files["pt"]), ("int8", f"{plan.name}-fp32")):
        if kind not in files:
            continue
        name = f"{plan.name}-{kind}"
        entries[kind] = RegisteredModel(
            name=name,
            version=plan.version,
            file=files[kind],
            sha256=files[f"{kind}_sha256"],
            input_size=InputRectangle.field_of(plan.input_size),
            classes=CLASSES,
            thresholds=OperatingThresholds(
                score=outcome.score_thresholds[kind], iou=plan.iou_threshold
            ),
            parent=parent,
            format="onnx-fp32" if kind == "fp32" else "onnx-int8",
            training_data=training_data_text(provenance),
            licence=licence_text(provenance),
            metrics={"threshold": outcome.score_thresholds[kind], **outcome.metrics.get(kind, {})},
            latency=outcome.latency.get(kind, {}),
            card=f"cards/{name}.md",
        )
    return entries


def training_curves(outcome: ExportOutcome, provenance: Provenance, cards: Path) -> Path | None:
    """Draw the run's curves into the cards folder (never into the run folder, which may still
    be training); ``None`` when the run is unknown."""
    if provenance.run_dir is None:
        return None
    results = provenance.run_dir / "train" / "results.csv"
    if not results.is_file():
        return None
    title = f"{outcome.plan.name} {outcome.plan.version}: training curves"
    return write_training_report(results, cards / f"{outcome.plan.name}-training.png", title)


def _remove_replaced(registry: Registry, entry: RegisteredModel, models_dir: Path) -> None:
    """Delete the file of the entry ``entry`` replaces, unless another entry still uses it."""
    old = next((m for m in registry.models if m.name == entry.name), None)
    if old is None or old.file == entry.file:
        return
    if any(m.file == old.file for m in registry.models if m.name != entry.name):
        return
    for stale in (models_dir / old.file, (models_dir / old.file).with_suffix(".pt")):
        if stale.is_file():
            logger.info("removing %s (replaced by %s %s)", stale, entry.name, entry.version)
            stale.unlink()


def publish(
    outcome: ExportOutcome,
    models_dir: Path,
    recipe: Recipe,
    *,
    set_default: bool,
) -> list[Path]:
    """Copy the gated files into ``models_dir``, upsert the registry, write both cards."""
    if not outcome.passed:
        raise ValueError("refusing to publish a model that did not pass the gate")
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / "cards").mkdir(exist_ok=True)
    registry_path = models_dir / "registry.yaml"
    copies = {
        "pt": outcome.parent_checkpoint,
        "fp32": outcome.fp32,
        "int8": outcome.int8,
    }
    files: dict[str, str] = {}
    for kind, source in copies.items():
        target = models_dir / source.name
        shutil.copyfile(source, target)
        files[kind] = source.name
        files[f"{kind}_sha256"] = file_sha256(target)
    provenance = load_provenance(
        outcome.plan.run_dir, outcome.checkpoint_epoch, outcome.plan.checkpoint
    )
    entries = build_entries(outcome, files, provenance)
    registry = (
        load_registry(registry_path)
        if registry_path.is_file()
        else Registry(default=entries["int8"].name, models=[])
    )
    for entry in entries.values():
        _remove_replaced(registry, entry, models_dir)
        registry.upsert(entry)
    if set_default:
        registry.default = entries["int8"].name
    written = [models_dir / files[kind] for kind in copies]
    curves = training_curves(outcome, provenance, models_dir / "cards")
    if curves is not None:
        written.append(curves)
    for kind, entry in entries.items():
        card = models_dir / str(entry.card)
        text = render_card(
            entry,
            entries,
            outcome,
            recipe,
            provenance,
            is_int8=kind == "int8",
            curves=curves.name if curves else None,
        )
        card.write_text(text, encoding="utf-8")
        written.append(card)
    registry.save(registry_path)
    written.append(registry_path)
    return written


def write_outcome(outcome: ExportOutcome, path: Path) -> None:
    """The export's numbers as JSON in its work folder (kept even when nothing is published)."""
    document = {
        "checkpoint": str(outcome.plan.checkpoint),
        "checkpoint_epoch": outcome.checkpoint_epoch,
        "input_size": str(outcome.plan.input_size),
        "score_thresholds": outcome.score_thresholds,
        "iou_threshold": outcome.plan.iou_threshold,
        "nodes_kept_float": outcome.excluded_nodes,
        "gate": outcome.gate,
        "tries": outcome.tries,
        "metrics": outcome.metrics,
        "latency": outcome.latency,
    }
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
