"""``vigifeu bench`` parsing: reproducible command lines, delegation to geo/ingest modules."""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import pytest

from benchmarks import cli
from vigifeu.cli import main


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vigifeu bench")
    cli.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["accuracy", "--data", "d.yaml", "--out", "o", "--threshold", "0.3"],
        ["sequences", "--sequences", "s.csv", "--out", "o", "--window-frames", "3"],
        ["speed", "--images", "i", "--out", "o", "--fp32", "f.onnx"],
        ["video", "--video", "v.mp4", "--camera-config", "c.yaml", "--out", "o"],
        ["all", "--shared", "../shared", "--out", "runs/bench", "--results", "R.md"],
    ],
)
def test_the_written_command_parses_back_to_the_same_arguments(argv: list[str]) -> None:
    args = parse(argv)
    line = cli.command_line(args)
    assert line.startswith(f"vigifeu bench {argv[0]} ")
    assert parse(line.split()[2:]) == args


def test_geo_and_ingest_get_their_arguments_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[argparse.Namespace] = []

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--rate", type=int, required=True)
        parser.add_argument("--out", type=Path)

    def run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 7

    fake = types.SimpleNamespace(add_arguments=add_arguments, run=run)
    monkeypatch.setitem(sys.modules, "benchmarks.ingest", fake)
    assert main(["bench", "ingest", "--rate", "5", "--out", "x"]) == 7
    assert seen == [argparse.Namespace(rate=5, out=Path("x"))]


def test_a_delegated_module_that_is_missing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.DELEGATED, "elsewhere", ("benchmarks.not_written_yet", "help"))
    assert main(["bench", "elsewhere", "--any", "thing"]) == 2
