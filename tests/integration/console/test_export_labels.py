"""The feedback loop: operator verdicts -> ``vigifeu export-labels`` -> checker -> training."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from central.console.actions import Action, FalsePositive, apply_action
from central.console.operators import create_operator
from central.db import Operator, make_engine, make_session_factory
from central.db.migrate import upgrade_to_head
from central.geo import Locator, load_geodata
from central.incidents.service import ingest_alert
from tests.integration.console.scenario import CABANELLE, event_alerts
from tests.integration.training.conftest import write_synthetic_dataset
from vigifeu.cli import main as vigifeu
from vigifeu.datasets.check import check_dataset

pytestmark = pytest.mark.integration
TARGET = (43.69, 7.20)
RECIPE = Path(__file__).resolve().parents[3] / "models" / "recipes" / "smoke-fire-v1.yaml"


@pytest.fixture(scope="module")
def judged_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Four incidents judged through the console's own actions, one frame set each.

    Each is closed or dismissed before the next arrives, so that none absorbs the next one.
    """
    url = f"sqlite:///{tmp_path_factory.mktemp('labels') / 'central.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    locator = Locator(load_geodata())
    with sessions.begin() as session:
        create_operator(session, "operatrice", "Opératrice", "un-mot-de-passe-long")
    verdicts = [
        ((10, 12, 14, 16), [Action.CONFIRM, Action.CLOSE], None),  # smoke, closed afterwards
        ((18, 20, 22, 24), [Action.DISMISS], FalsePositive.CLOUD),  # hard negatives
        ((26, 28), [Action.CLOSE], None),  # closed without a verdict: left out
        ((30, 32, 34, 36), [Action.DISPATCH], None),  # smoke, still open
    ]
    for minutes, actions, false_positive in verdicts:
        with sessions.begin() as session:
            results = [
                ingest_alert(session, alert, locator)
                for alert in event_alerts(CABANELLE, TARGET, minutes)
            ]
        incident_id = results[0].incident_id
        assert incident_id is not None
        for action in actions:
            with sessions.begin() as session:
                operator = session.query(Operator).one()
                apply_action(session, incident_id, action, operator, None, false_positive)
    engine.dispose()
    return url


def test_export_writes_verdicts_as_a_checked_yolo_dataset(judged_db: str, tmp_path: Path) -> None:
    out = tmp_path / "labels"
    assert (
        vigifeu(["export-labels", "--since", "2000-01-01", "--out", str(out), "--db", judged_db])
        == 0
    )

    with (out / "manifest.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    per_incident = Counter(
        (int(r["incident_id"]), r["verdict"], r["false_positive_type"]) for r in rows
    )
    # Incident 3 (closed without a verdict) is not there.
    assert per_incident == {
        (1, "smoke", ""): 4,
        (2, "false_positive", "cloud"): 4,
        (4, "smoke", ""): 4,
    }
    for row in rows:
        label = out / row["file"].replace("images/", "labels/", 1).replace(".jpg", ".txt")
        lines = label.read_text(encoding="utf-8").splitlines()
        assert len(lines) == int(row["boxes"])
        assert (len(lines) > 0) == (row["verdict"] == "smoke")
    # All frames of one incident are on the same side, and both sides exist.
    sides = {(r["incident_id"], r["split"]) for r in rows}
    assert len(sides) == 3
    assert {split for _, split in sides} == {"train", "val"}

    report = check_dataset(out)
    assert report.ok, report.as_dict()["findings"]
    assert report.count("warning") == 0
    assert vigifeu(["dataset", "check", str(out)]) == 0


def test_since_filters_by_first_sighting(judged_db: str, tmp_path: Path) -> None:
    next_year = (datetime.now(UTC) + timedelta(days=366)).date().isoformat()
    assert (
        vigifeu(["export-labels", "--since", next_year, "--out", str(tmp_path), "--db", judged_db])
        == 1
    )
    assert (tmp_path / "manifest.csv").read_text(encoding="utf-8").count("\n") == 1  # header


@pytest.mark.slow
def test_exported_dataset_trains_for_one_epoch_beside_a_public_set(
    judged_db: str, tmp_path: Path
) -> None:
    """The feedback loop: operators' verdicts and a public lookout set in one training run."""
    public = write_synthetic_dataset(tmp_path / "public", train_frames=8)
    out = tmp_path / "labels"
    assert (
        vigifeu(["export-labels", "--since", "2000-01-01", "--out", str(out), "--db", judged_db])
        == 0
    )
    recipe = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    # The shipped recipe, made small: from scratch (no COCO file needed), 160 px, batch 4.
    recipe.update(init="scratch", image_size=160, batch=4, nominal_batch=4, close_mosaic=0)
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    run_dir = tmp_path / "run"
    code = vigifeu(
        [
            "train",
            "--recipe",
            str(recipe_path),
            "--lookout",
            str(public),
            "--lookout",
            str(out),
            "--run-dir",
            str(run_dir),
            "--epochs",
            "1",
        ]
    )
    assert code == 0
    assert (run_dir / "train" / "weights" / "last.pt").is_file()
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert run["lookouts"] == [str(public), str(out)]
    verdict_images = {path.name for path in (out / "images" / "train").iterdir()}
    prepared = {path.name for path in (run_dir / "data" / "images" / "train").iterdir()}
    assert len(prepared) == 8 + len(verdict_images)
    results = (run_dir / "train" / "results.csv").read_text(encoding="utf-8").splitlines()
    assert len(results) == 2  # header + the one epoch
