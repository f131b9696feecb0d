"""Licences, provenance and the training report of a published model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigifeu.training.publish import (
    Provenance,
    licence_text,
    load_provenance,
    training_data_text,
)
from vigifeu.training.report import read_results, write_training_report

HPWREN = "/data/wildfire_smoke_hpwren"
EXTRA = "/data/wildfire_extra"


def test_a_run_on_several_lookout_sets_names_each_and_inherits_each_licence() -> None:
    data = {"extra_require_smoke_box": True, "extra_negatives_train": 150}
    run = {"recipe": {"data": data}, "lookouts": [HPWREN, "/data/verdicts"], "extra": EXTRA}
    recorded = Provenance(None, run, None, None)
    assert recorded.datasets == ["wildfire_smoke_hpwren", "verdicts", "wildfire_extra"]
    text = training_data_text(recorded)
    assert text.startswith("wildfire_smoke_hpwren train + verdicts train + wildfire_extra train")
    licence = licence_text(recorded)
    assert "CC BY-NC-SA 4.0 inherited" in licence
    assert "verdicts: see its README" in licence


def provenance(init: str, lookout: str | None, extra: str | None = None) -> Provenance:
    run = {"recipe": {"init": init}, "lookout": lookout, "extra": extra}
    return Provenance(None, run, None, None)


@pytest.mark.parametrize(
    ("init", "lookout", "extra", "present", "absent"),
    [
        # HPWREN data is CC BY-NC-SA: the model inherits it; COCO init adds GPL-3.0.
        ("coco-yolov5n", HPWREN, EXTRA, ["CC BY-NC-SA 4.0 inherited", "GPL-3.0", "CC BY 4.0"], []),
        ("scratch", HPWREN, None, ["CC BY-NC-SA 4.0 inherited"], ["GPL-3.0"]),
        ("scratch", "/data/own_cameras", None, ["own_cameras: see its README"], ["NC-SA"]),
    ],
)
def test_licence_follows_data_and_init(
    init: str, lookout: str, extra: str | None, present: list[str], absent: list[str]
) -> None:
    text = licence_text(provenance(init, lookout, extra))
    for part in present:
        assert part in text
    for part in absent:
        assert part not in text


def test_licence_of_an_unrecorded_run_says_so() -> None:
    assert "unknown" in licence_text(Provenance(None, {}, None, None))


def test_training_data_names_the_pasted_plumes_only_when_used() -> None:
    data = {"extra_require_smoke_box": True, "extra_negatives_train": 150}
    run = {"recipe": {"data": data}, "lookout": HPWREN, "extra": EXTRA}
    assert "pasted" not in training_data_text(Provenance(None, run, None, None))
    data["pasted_plumes_per_lookout_image"] = 0.4
    text = training_data_text(Provenance(None, run, None, None))
    assert "0.4 x the lookout frames again, each with one of their plumes pasted" in text


RESULTS_CSV = (
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),"
    "metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,"
    "val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n"
    "1,389.6,3.29,3.37,3.57,0.007,0.019,0.002,0.0004,3.36,15.97,3.58,0.00098,0.00098,0.0028\n"
    "2,812.2,2.81,2.82,3.07,0.033,0.169,0.015,0.0037,2.91,130.3,3.40,0.00097,0.00097,0.00097\n"
)


def test_provenance_counts_epochs_of_the_run(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "results.csv").write_text(RESULTS_CSV)
    (tmp_path / "run.json").write_text(json.dumps({"recipe": {"init": "scratch", "epochs": 30}}))
    found = load_provenance(tmp_path, checkpoint_epoch=2)
    assert (found.epochs_completed, found.checkpoint_epoch, found.init) == (2, 2, "scratch")
    assert load_provenance(None, None).epochs_completed is None


def test_a_finished_best_pt_gets_its_epoch_from_the_results(tmp_path: Path) -> None:
    # ultralytics strips the epoch from best.pt at the end of a run; fitness is mAP50-95.
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "results.csv").write_text(RESULTS_CSV)
    assert load_provenance(tmp_path, None, tmp_path / "best.pt").checkpoint_epoch == 2
    assert load_provenance(tmp_path, None, tmp_path / "last.pt").checkpoint_epoch is None


def test_training_report_draws_the_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "results.csv"
    csv_path.write_text(RESULTS_CSV)
    assert read_results(csv_path)["metrics/mAP50(B)"] == [0.002, 0.015]
    png = write_training_report(csv_path, tmp_path / "out" / "curves.png", "run")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_training_report_of_a_run_without_epochs_is_an_error(tmp_path: Path) -> None:
    csv_path = tmp_path / "results.csv"
    csv_path.write_text(RESULTS_CSV.splitlines()[0] + "\n")
    with pytest.raises(ValueError, match="no epoch"):
        write_training_report(csv_path, tmp_path / "curves.png")
