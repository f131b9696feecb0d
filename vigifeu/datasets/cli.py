"""``vigifeu dataset convert|check``: bring a public set into our YOLO layout, then check it.

Examples (see datasets/README.md and the fetch scripts there)::

    vigifeu dataset convert --format yolo --source D-Fire --out data/dfire \
        --classes 0=smoke,1=fire --prefix dfire_
    vigifeu dataset convert --format coco --source FASDD_CV/annotations/COCO_CV/Annotations/train.json \
        --images FASDD_CV/images --split train --out data/fasdd --classes smoke=smoke,fire=fire
    vigifeu dataset check data/dfire --report data/dfire/check.json
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from vigifeu.datasets.check import check_dataset
from vigifeu.datasets.convert import ClassMap, ConversionError, convert
from vigifeu.datasets.sources import (
    SourceFormatError,
    SourceImage,
    read_coco,
    read_figlib,
    read_parquet,
    read_voc,
    read_yolo,
)

logger = logging.getLogger(__name__)

FORMATS = ("voc", "coco", "yolo", "parquet", "figlib")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    conv = actions.add_parser("convert", help="convert a VOC/COCO/YOLO/Parquet/FIgLib set")
    conv.add_argument("--format", choices=FORMATS, required=True)
    conv.add_argument(
        "--source",
        type=Path,
        required=True,
        help="voc: folder of xml; coco: the json file; yolo: dataset root; "
        "parquet: file or folder of *.parquet; figlib: folder of fire folders",
    )
    conv.add_argument("--images", type=Path, help="images folder (voc: default beside each xml)")
    conv.add_argument(
        "--split", default="train", help="split of voc/coco/figlib input (yolo/parquet: default)"
    )
    conv.add_argument("--out", type=Path, required=True, help="our YOLO dataset (created)")
    conv.add_argument(
        "--classes",
        default="smoke=smoke,fire=fire",
        help="SOURCE=TARGET,...; TARGET is smoke, fire or drop; '*=drop' drops the rest",
    )
    conv.add_argument("--prefix", default="", help="prefix of output names, e.g. dfire_")
    check = actions.add_parser("check", help="check a YOLO dataset; exit 1 on errors")
    check.add_argument("root", type=Path)
    check.add_argument(
        "--missing-is-negative",
        action="store_true",
        help="an image without a label file is a negative (default: an error)",
    )
    check.add_argument("--report", type=Path, help="write every finding as JSON here")


def _items(args: argparse.Namespace) -> Iterator[SourceImage]:
    source: Path = args.source
    if args.format == "voc":
        return read_voc(source, args.images, args.split)
    if args.format == "coco":
        if args.images is None:
            raise SourceFormatError("--images is required with --format coco")
        return read_coco(source, args.images, args.split)
    if args.format == "yolo":
        return read_yolo(source, args.split)
    if args.format == "parquet":
        return read_parquet(source, args.split)
    return read_figlib(source, args.split)


def _convert(args: argparse.Namespace) -> int:
    if not args.source.exists():
        logger.error("%s does not exist", args.source)
        return 2
    try:
        summary = convert(_items(args), args.out, ClassMap.parse(args.classes), prefix=args.prefix)
    except (ConversionError, SourceFormatError, OSError) as error:
        logger.error("conversion failed: %s", error)
        return 1
    print(json.dumps(summary.as_dict(), indent=2))  # noqa: T201 - command output
    return 0


def _check(args: argparse.Namespace) -> int:
    report = check_dataset(args.root, missing_is_negative=args.missing_is_negative)
    for finding in report.findings[:20]:
        log = logger.error if finding.severity == "error" else logger.warning
        log("%s %s: %s", finding.code, finding.path, finding.detail)
    if args.report is not None:
        full = report.as_dict(max_findings=len(report.findings))
        args.report.write_text(json.dumps(full, indent=2), encoding="utf-8")
    summary = report.as_dict(max_findings=0)
    del summary["findings"]
    print(json.dumps(summary, indent=2))  # noqa: T201 - command output
    return 0 if report.ok else 1


def run(args: argparse.Namespace) -> int:
    return _convert(args) if args.action == "convert" else _check(args)
