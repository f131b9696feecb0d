"""Converters on tiny fixtures written in the format each public source ships in."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vigifeu.cli import main
from vigifeu.datasets.convert import ClassMap, ConversionError, clip_box, convert
from vigifeu.datasets.sources import (
    SourceBox,
    SourceFormatError,
    read_coco,
    read_figlib,
    read_parquet,
    read_voc,
    read_yolo,
)


def jpeg(width: int = 64, height: int = 48, grey: int = 100) -> bytes:
    image = np.full((height, width, 3), grey, np.uint8)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


def labels_of(out: Path, split: str) -> dict[str, list[str]]:
    return {
        path.stem: path.read_text().splitlines()
        for path in sorted((out / "labels" / split).glob("*.txt"))
    }


VOC_XML = """<annotation>
  <filename>{name}.jpg</filename>
  <size><width>64</width><height>48</height><depth>3</depth></size>
  {objects}
</annotation>"""
VOC_OBJECT = (
    "<object><name>{cls}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
    "<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
)


def write_voc(folder: Path, name: str, objects: list[tuple[str, int, int, int, int]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jpg").write_bytes(jpeg())
    body = "".join(
        VOC_OBJECT.format(cls=c, x0=x0, y0=y0, x1=x1, y1=y1) for c, x0, y0, x1, y1 in objects
    )
    (folder / f"{name}.xml").write_text(VOC_XML.format(name=name, objects=body))


def test_voc_boxes_are_normalised_and_remapped(tmp_path: Path) -> None:
    # FIgLib HPWREN-BB / FASDD VOC: pixel corners, class by name.
    write_voc(tmp_path / "voc", "a", [("smoke", 16, 12, 48, 36), ("flame", 0, 0, 32, 24)])
    write_voc(tmp_path / "voc", "b", [])
    summary = convert(
        read_voc(tmp_path / "voc", None, "train"),
        tmp_path / "out",
        ClassMap.parse("smoke=smoke,flame=fire"),
    )
    assert labels_of(tmp_path / "out", "train") == {
        "a": ["0 0.500000 0.500000 0.500000 0.500000", "1 0.250000 0.250000 0.500000 0.500000"],
        "b": [],
    }
    assert summary.images == {"train": 2}
    assert summary.negatives == {"train": 1}
    assert summary.clipped == 0
    assert (tmp_path / "out" / "images" / "train" / "a.jpg").read_bytes() == (
        tmp_path / "voc" / "a.jpg"
    ).read_bytes()


def test_coco_bbox_is_xywh_pixels(tmp_path: Path) -> None:
    # FASDD COCO: bbox = x, y, w, h in pixels; categories by id.
    images = tmp_path / "images"
    images.mkdir()
    (images / "0.jpg").write_bytes(jpeg())
    document = {
        "images": [{"id": 7, "file_name": "0.jpg", "width": 64, "height": 48}],
        "categories": [{"id": 1, "name": "fire"}, {"id": 2, "name": "smoke"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 2, "bbox": [16, 12, 32, 24]},
            {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 16, 12]},
        ],
    }
    annotation_file = tmp_path / "train.json"
    annotation_file.write_text(json.dumps(document))
    convert(
        read_coco(annotation_file, images, "train"),
        tmp_path / "out",
        ClassMap.parse("fire=fire,smoke=smoke"),
    )
    assert labels_of(tmp_path / "out", "train") == {
        "0": ["0 0.500000 0.500000 0.500000 0.500000", "1 0.125000 0.125000 0.250000 0.250000"]
    }


def test_yolo_split_folder_layout_and_aliases(tmp_path: Path) -> None:
    # D-Fire: <split>/images, <split>/labels, classes 0 smoke 1 fire, no data.yaml;
    # Roboflow exports name their val split "valid".
    for split, line in (("train", "1 0.5 0.5 0.2 0.2"), ("valid", "0 0.4 0.4 0.1 0.1")):
        (tmp_path / "src" / split / "images").mkdir(parents=True)
        (tmp_path / "src" / split / "labels").mkdir(parents=True)
        (tmp_path / "src" / split / "images" / "x.jpg").write_bytes(jpeg())
        (tmp_path / "src" / split / "labels" / "x.txt").write_text(line + "\n")
    (tmp_path / "src" / "train" / "images" / "neg.jpg").write_bytes(jpeg())  # no label: negative
    convert(
        read_yolo(tmp_path / "src", "train"),
        tmp_path / "out",
        ClassMap.parse("0=smoke,1=fire"),
        prefix="dfire_",
    )
    assert labels_of(tmp_path / "out", "train") == {
        "dfire_neg": [],
        "dfire_x": ["1 0.500000 0.500000 0.200000 0.200000"],
    }
    assert labels_of(tmp_path / "out", "val") == {
        "dfire_x": ["0 0.400000 0.400000 0.100000 0.100000"]
    }
    data = (tmp_path / "out" / "data.yaml").read_text()
    assert "train: images/train" in data
    assert "val: images/val" in data


def test_yolo_names_from_data_yaml_can_be_mapped_by_name(tmp_path: Path) -> None:
    # Roboflow "try20": names ['fire', 'smoke'], i.e. the reverse of our order.
    (tmp_path / "src" / "images" / "train").mkdir(parents=True)
    (tmp_path / "src" / "labels" / "train").mkdir(parents=True)
    (tmp_path / "src" / "data.yaml").write_text("names: ['fire', 'smoke']\n")
    (tmp_path / "src" / "images" / "train" / "a.jpg").write_bytes(jpeg())
    (tmp_path / "src" / "labels" / "train" / "a.txt").write_text(
        "0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n"
    )
    convert(
        read_yolo(tmp_path / "src", "train"),
        tmp_path / "out",
        ClassMap.parse("fire=fire,smoke=smoke"),
    )
    assert [line[0] for line in labels_of(tmp_path / "out", "train")["a"]] == ["1", "0"]


def test_parquet_rows_become_images(tmp_path: Path) -> None:
    # pyro-sdis: Parquet shards named <split>-NNNNN-of-NNNNN.parquet with image bytes and YOLO text.
    polars = pytest.importorskip("polars")
    frame = polars.DataFrame(
        {
            "image": [{"bytes": jpeg(), "path": None}, {"bytes": jpeg(grey=30), "path": None}],
            "annotations": ["1 0.5 0.5 0.25 0.25\n", ""],
            "image_name": ["pyronear_cam_2024.jpg", "empty.jpg"],
        }
    )
    frame.write_parquet(tmp_path / "val-00000-of-00001.parquet")
    summary = convert(
        read_parquet(tmp_path, "train"), tmp_path / "out", ClassMap.parse("0=smoke,1=smoke")
    )
    assert labels_of(tmp_path / "out", "val") == {
        "empty": [],
        "pyronear_cam_2024": ["0 0.500000 0.500000 0.250000 0.250000"],
    }
    assert summary.boxes == {"val/smoke": 1}


def test_figlib_keeps_pre_ignition_frames_as_negatives(tmp_path: Path) -> None:
    fire = tmp_path / "20180728_FIRE_rm-w-mobo-c"
    fire.mkdir()
    for name in ("1532797141_-02400", "1532799541_+00000", "1532799601_+00060", "notes"):
        (fire / f"{name}.jpg").write_bytes(jpeg())
    convert(read_figlib(tmp_path, "train"), tmp_path / "out", ClassMap.parse("*=drop"))
    assert labels_of(tmp_path / "out", "train") == {
        "20180728_FIRE_rm-w-mobo-c_1532797141_-02400": []
    }


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        (SourceBox(("0",), 0.5, 0.5, 0.2, 0.2), (0.5, 0.5, 0.2, 0.2)),  # inside: unchanged
        (SourceBox(("0",), 0.95, 0.5, 0.2, 0.2), (0.925, 0.5, 0.15, 0.2)),  # sticks out right
        (SourceBox(("0",), 1.2, 0.5, 0.2, 0.2), None),  # entirely outside
        (SourceBox(("0",), 0.5, 0.5, 0.0, 0.2), None),  # zero width
    ],
)
def test_clip_box(box: SourceBox, expected: tuple[float, ...] | None) -> None:
    clipped = clip_box(box)
    if expected is None:
        assert clipped is None
    else:
        assert clipped == pytest.approx(expected)


@pytest.mark.parametrize(
    ("spec", "keys", "expected"),
    [
        ("0=smoke,1=fire", ("1",), 1),
        ("Smoke=smoke", ("0", "smoke"), 0),  # case-insensitive, name after index
        ("person=drop,*=fire", ("person",), None),
        ("person=drop,*=fire", ("flame",), 1),  # fallback
    ],
)
def test_class_map(spec: str, keys: tuple[str, ...], expected: int | None) -> None:
    assert ClassMap.parse(spec).target(keys) == expected


@pytest.mark.parametrize("spec", ["", "smoke", "smoke=cloud", "=fire"])
def test_bad_class_maps_are_refused(spec: str) -> None:
    with pytest.raises(ConversionError):
        ClassMap.parse(spec)


def test_unknown_source_class_is_an_error(tmp_path: Path) -> None:
    write_voc(tmp_path / "voc", "a", [("person", 1, 1, 10, 10)])
    with pytest.raises(ConversionError, match="person"):
        convert(
            read_voc(tmp_path / "voc", None, "train"),
            tmp_path / "out",
            ClassMap.parse("smoke=smoke"),
        )


def test_malformed_yolo_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "src" / "images").mkdir(parents=True)
    (tmp_path / "src" / "labels").mkdir(parents=True)
    (tmp_path / "src" / "images" / "a.jpg").write_bytes(jpeg())
    (tmp_path / "src" / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n0 0.5 0.5\n")
    with pytest.raises(SourceFormatError, match=r"a\.txt:2"):
        list(read_yolo(tmp_path / "src", "train"))


def test_same_output_name_twice_is_refused(tmp_path: Path) -> None:
    write_voc(tmp_path / "voc", "a", [])
    convert(read_voc(tmp_path / "voc", None, "train"), tmp_path / "out", ClassMap.parse("*=drop"))
    with pytest.raises(ConversionError, match="already exists"):
        convert(
            read_voc(tmp_path / "voc", None, "train"), tmp_path / "out", ClassMap.parse("*=drop")
        )


def test_cli_convert_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_voc(tmp_path / "voc", "a", [("smoke", 16, 12, 48, 36)])
    out = tmp_path / "out"
    assert (
        main(
            [
                "dataset",
                "convert",
                "--format",
                "voc",
                "--source",
                str(tmp_path / "voc"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["boxes"] == {"train/smoke": 1}
    assert main(["dataset", "check", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_cli_convert_reports_unknown_class(tmp_path: Path) -> None:
    write_voc(tmp_path / "voc", "a", [("person", 1, 1, 10, 10)])
    argv = [
        "dataset",
        "convert",
        "--format",
        "voc",
        "--source",
        str(tmp_path / "voc"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 1
