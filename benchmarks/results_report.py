"""``RESULTS.md`` from one ``bench all`` run: a section per benchmark, each with its commands.

A section whose steps did not all run says why (failed with its reason, awaiting a shipped model,
skipped); a section whose ``metrics.json`` no longer has the expected shape says so instead of
breaking the file. The detector sections are in ``results_detector``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.report import fmt, markdown_table
from benchmarks.results import STATUS_TEXT, BenchRun, StepResult, verdict
from benchmarks.results_detector import (
    VAL_ACCURACY,
    accuracy_section,
    negatives_section,
    robustness_section,
    sequences_section,
    speed_section,
)

Renderer = Callable[[BenchRun], list[str]]


def provenance(run: BenchRun, keys: list[str]) -> list[str]:
    """The commands of a section, each with its status and when it finished."""
    lines = [f"Commands (commit `{run.commit}`):", "", "```"]
    for key in keys:
        result = run.results[key]
        when = f"{result.finished_at:%Y-%m-%d %H:%M} UTC" if result.finished_at else "not run"
        lines += [f"# {key}: {STATUS_TEXT[result.status]}, {when}", result.step.command]
    return [*lines, "```"]


def not_run(result: StepResult) -> list[str]:
    return [f"**Not measured in this run** ({STATUS_TEXT[result.status]}): {result.reason}."]


def geo_section(run: BenchRun) -> list[str]:
    metrics = run.metrics_of("geo")
    if metrics is None:
        return not_run(run.results["geo"])
    one, two = metrics["one_camera"], metrics["two_cameras"]
    located_share = one["located"] / one["n"] if one["n"] else None
    two_met = (
        None
        if two["median_m"] is None or two["p90_m"] is None
        else two["median_m"] <= 150 and two["p90_m"] <= 400
    )
    one_met = (
        None
        if one["median_m"] is None or located_share is None
        else one["median_m"] <= 600 and located_share > 0.5
    )
    attribution = metrics["attribution"]
    shares = [attribution[f"{name}_correct"] for name in ("dfci", "commune", "massif")]
    attribution_met = None if any(s is None for s in shares) else all(s == 1.0 for s in shares)
    share_text = "–" if located_share is None else f"{one['located']} ({100 * located_share:.0f} %)"
    return [
        "Simulated fires in the forest of the 06, seen from the three real lookout sites and four "
        "plausible summits, projected to pixels through the camera models with heading and tilt "
        "noise, then located by central's `Locator`; the same DEM makes and inverts the "
        "observations, so real one-camera errors will be larger (limits, sites and plots: "
        "`geo/report.md` in the output folder). Bearing sigma 0.3 deg, tilt sigma 0.1 deg, "
        "range up to 20 km.",
        "",
        markdown_table(
            ["case", "fires", "located", "median (m)", "p90 (m)", "target", "status"],
            [
                [
                    "two cameras",
                    two["n"],
                    "–",
                    fmt(two["median_m"], 0),
                    fmt(two["p90_m"], 0),
                    "median <= 150, p90 <= 400",
                    verdict(two_met),
                ],
                [
                    "one camera + terrain",
                    one["n"],
                    share_text,
                    fmt(one["median_m"], 0),
                    fmt(one["p90_m"], 0),
                    "median <= 600 over located; locates most",
                    verdict(one_met),
                ],
            ],
        ),
        "",
        "Attribution correct, over the located fires whose error is smaller than their distance "
        f"to that border (target: all): DFCI square {_percent(shares[0])}, commune "
        f"{_percent(shares[1])}, massif {_percent(shares[2])}: {verdict(attribution_met)}.",
        "",
        markdown_table(
            ["bearing sigma (deg)", "two cameras median (m)", "one camera median (m)"],
            [
                [
                    f"{row['bearing_sigma_deg']:g}",
                    fmt(row["two_cameras_median_m"], 0),
                    fmt(row["one_camera_median_m"], 0),
                ]
                for row in metrics["sweep"]
            ],
        ),
    ]


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.1f} %"


INGEST_STEPS = ("ingest", "ingest_2_instances")


def _summed_counter(metrics: dict[str, Any], name: str) -> str:
    """A counter over the central instances (``/api/v1/metrics``), 0 where one never counted."""
    return str(sum(int(c.get(name, 0)) for c in metrics.get("central_counters") or []))


def _pair(values: dict[str, Any] | None, first: str, second: str) -> str:
    values = values or {}
    return f"{fmt(values.get(first), 2)} / {fmt(values.get(second), 2)}"


def _ingest_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    raw = metrics.get("raw_broker_msgs_per_s") or []
    latency = metrics.get("latency_ms") or {}
    return [
        ("alerts published", str(metrics.get("alerts"))),
        ("mean payload (bytes)", str(metrics.get("mean_payload_bytes"))),
        ("database, central instances", f"{metrics.get('database')}, {metrics.get('instances')}"),
        ("raw broker (mosquitto_pub -> mosquitto_sub), msg/s", " / ".join(fmt(r, 0) for r in raw)),
        ("central ingest, msg/s", fmt(metrics.get("central_msgs_per_s"), 0)),
        ("central CPU per message, ms", fmt(metrics.get("central_cpu_ms_per_msg"), 2)),
        (
            "raw run CPU per message: broker / Mosquitto clients, ms",
            _pair(metrics.get("raw_cpu_ms_per_msg"), "broker", "clients"),
        ),
        (
            "central run CPU per message: broker / publishers, ms",
            _pair(metrics.get("central_run_cpu_ms_per_msg"), "broker", "publishers"),
        ),
        (
            "ceiling on this machine: cores / CPU of all processes per message, msg/s",
            f"{metrics.get('cores')} cores: {fmt(metrics.get('machine_ceiling_msgs_per_s'), 0)}",
        ),
        (
            "contract decoding alone, one process, msg/s",
            fmt(metrics.get("decode_only_msgs_per_s"), 0),
        ),
        (
            "incidents (triangulated)",
            f"{metrics.get('incidents')} ({metrics.get('incidents_triangulated')})",
        ),
        (
            "incidents holding several fires / fires split over several incidents",
            f"{fmt(metrics.get('incidents_with_several_fires'))}"
            f" / {fmt(metrics.get('fires_over_several_incidents'))}",
        ),
        (
            "latency publish -> stored, p50 / p95 ms",
            f"{fmt(latency.get('p50'), 0)} / {fmt(latency.get('p95'), 0)}",
        ),
        (
            "batches stored again after another instance's commit / messages quarantined",
            f"{_summed_counter(metrics, 'conflict_retries')}"
            f" / {_summed_counter(metrics, 'quarantined')}",
        ),
        ("central / raw broker rate", fmt(metrics.get("ratio"), 3)),
    ]


def ingest_section(run: BenchRun) -> list[str]:
    measured = [(key, run.metrics_of(key)) for key in INGEST_STEPS if key in run.results]
    runs = [(key, metrics) for key, metrics in measured if metrics is not None]
    if not runs:
        return not_run(run.results["ingest"])
    columns = [_ingest_rows(metrics) for _, metrics in runs]
    rows = [
        [label, *(column[i][1] for column in columns)] for i, (label, _) in enumerate(columns[0])
    ]
    header = ["measure", *(f"`{key}`" for key, _ in runs)]
    lines = [
        "Real Mosquitto and real `vigifeu central` processes (storage, clustering and "
        "geolocation on; several instances share the subscription) on this machine; the raw "
        "rate is measured before and after central's run, with Mosquitto's own clients on the "
        "same messages.",
        "",
        markdown_table(header, rows),
        "",
        "The ceiling row divides the cores by the CPU that every process of the central run "
        "(central, broker, publishers) used per message: however many central instances share "
        "the subscription, this machine cannot ingest faster at that cost per message.",
        "",
    ]
    for key, metrics in runs:
        ratio, target = metrics.get("ratio"), metrics.get("target_ratio", 0.5)
        met = None if ratio is None else ratio >= target
        lines.append(
            f"`{key}`: central / raw broker rate {fmt(ratio, 3)} (target >= {target}): {verdict(met)}."
        )
    return lines


def footprint_section(run: BenchRun) -> list[str]:
    metrics = run.metrics_of("edge_footprint")
    if metrics is None:
        return not_run(run.results["edge_footprint"])
    per_camera = metrics.get("per_camera") or {}
    rows = [
        [
            r["cameras"],
            fmt(r["rss_mean_mib"], 0),
            fmt(r["rss_peak_mib"], 0),
            fmt(r["cpu_percent_of_one_core"], 1),
        ]
        for r in metrics["runs"]
    ]
    return [
        f"`vigifeu edge` replaying `{metrics['clip']}` on each camera at a "
        f"{metrics['cadence_s']:g} s cadence, {metrics['cpu_count']} CPUs; model: "
        f"{metrics['model']}.",
        "",
        markdown_table(["cameras", "RSS mean MiB", "RSS peak MiB", "CPU % of one core"], rows),
        "",
        f"Per extra camera: {fmt(per_camera.get('rss_mib'), 1)} MiB, "
        f"{fmt(per_camera.get('cpu_percent_of_one_core'), 2)} % of one core.",
    ]


SECTIONS: tuple[tuple[str, Renderer, tuple[str, ...]], ...] = (
    (
        "Per-frame accuracy (val splits)",
        accuracy_section,
        VAL_ACCURACY,
    ),
    (
        "Hard negatives (wildfire_extra)",
        negatives_section,
        ("accuracy_extra", "accuracy_extra_train"),
    ),
    ("Robustness to camera changes (hpwren val)", robustness_section, ("robustness",)),
    ("Time to detection (replayed timelines)", sequences_section, ("sequences",)),
    ("Speed (one run, paths interleaved)", speed_section, ("speed",)),
    ("Geolocation (simulated fires, issue 6)", geo_section, ("geo",)),
    ("Central ingest (issue 6)", ingest_section, INGEST_STEPS),
    ("Edge footprint per camera", footprint_section, ("edge_footprint",)),
)


def _render(run: BenchRun, render: Renderer) -> list[str]:
    try:
        return render(run)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
        # metrics.json changed shape under this report: say so, keep the other sections
        return [f"**Could not render this section** from its metrics.json: {error!r}."]


def _header(run: BenchRun) -> list[str]:
    if run.model is not None:
        info = run.model.info
        model = f"Model `{info.name}` {info.version} (sha256 `{info.sha256[:12]}…`)."
    elif (
        blocked := next((r for r in run.results.values() if r.step.group == "detector"), None)
    ) is None:
        model = "No detector step in this run."
    elif blocked.status == "awaiting":
        model = (
            f"**The detector sections await a shipped model**: {blocked.reason} (the lead "
            "publishes it with `vigifeu export`). Their commands are listed below and run as soon "
            "as it exists; geolocation and ingest need no model and are measured."
        )
    else:
        model = f"**The detector steps could not run**: {blocked.reason}."
    rows = [[key, STATUS_TEXT[r.status], r.reason or ""] for key, r in run.results.items()]
    changes = (
        f" (with uncommitted changes to {', '.join(f'`{f}`' for f in run.uncommitted)})"
        if run.uncommitted
        else ""
    )
    return [
        "# Benchmark results",
        "",
        f"Refreshed by `make bench` (`{run.command}`), started {run.started_at:%Y-%m-%d %H:%M} "
        f"UTC, commit `{run.commit}`{changes}. {model} Each command below also writes "
        "`metrics.json`, `report.md` and its plots into its own output folder.",
        "",
        markdown_table(["step", "status", "note"], rows),
    ]


def results_markdown(run: BenchRun) -> str:
    lines = _header(run)
    for title, render, keys in SECTIONS:
        present = [key for key in keys if key in run.results]
        if not present:
            continue
        lines += ["", f"## {title}", "", *_render(run, render), "", *provenance(run, present)]
    return "\n".join(lines) + "\n"
