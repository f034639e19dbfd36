"""Tables and the plot of ``bench.serving``: medians over repeats with their min-max spread."""

from __future__ import annotations

import os
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from bench import timing

SERVER_ORDER = ("willump-serve", "willump-serve-2w", "mlserver", "ray-serve", "ray-serve+willump")


def _header(title: str) -> list[str]:
    load = os.getloadavg()
    return [
        f"# {title}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load average at the "
        f"end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.",
        "",
    ]


def _spread(values: list[float], fmt: str) -> str:
    """``median (min-max)``, or the single value."""
    if len(values) == 1:
        return format(float(values[0]), fmt)
    return timing.spread([float(v) for v in values], fmt)


def group(results: list[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    """Repeats of each (server, encoding, rows, concurrency), failures left out."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if "failure" not in r:
            groups[(r["server"], r["encoding"], r["rows"], r["concurrency"])].append(r)
    return groups


def median(rs: list[dict[str, Any]], key: str) -> float:
    """The median of ``key`` over repeats."""
    return float(np.median([r[key] for r in rs]))


def write_calibration(rows: list[dict[str, Any]], path: Path) -> None:
    """The load generator against the trivial server."""
    lines = _header("Load generator calibration (bench.serving --calibrate)")
    lines += [
        "The client against `bench.serving_trivial` (a fixed answer from an asyncio protocol "
        "on uvloop): the ceiling of each engine and number of client processes on this "
        "machine, and the client's CPU per request (all its processes).",
        "",
        "| engine | rows | concurrency | client processes | req/s | p50 ms | p99 ms "
        "| client CPU µs/req | server CPU µs/req | other load (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['rows']} | {r['concurrency']} | {r['processes']} "
            f"| {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} "
            f"| {r['client_cpu_us_per_req']:.0f} | {r['server_cpu_us_per_req']:.0f} "
            f"| {r['others_cores']:.2f} |"
        )
    path.write_text("\n".join(lines) + "\n")


def _label(server: str, encoding: str) -> str:
    return server if encoding == "json" else f"{server} ({encoding})"


def _ordered(groups: dict[tuple, list[dict[str, Any]]]) -> list[tuple]:
    rank = {s: i for i, s in enumerate(SERVER_ORDER)}
    return sorted(groups, key=lambda k: (k[2], rank.get(k[0], 99), k[1], k[3]))


def _lookup(
    groups: dict[tuple, list[dict[str, Any]]],
    server: str,
    rows: int,
    conc: int,
    key: str,
    encoding: str = "json",
) -> float | None:
    rs = groups.get((server, encoding, rows, conc))
    return median(rs, key) if rs else None


def _by_process(rs: list[dict[str, Any]]) -> dict[str, float]:
    """Median server CPU µs per request for each process name of the server's tree."""
    names = {n for r in rs for n in r.get("server_cpu_us_per_req_by_process", {})}
    return {
        n: float(np.median([r["server_cpu_us_per_req_by_process"].get(n, 0.0) for r in rs]))
        for n in names
    }


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


#: the in-process references ``bench.serving.prepare`` measures, by key
REFERENCES = {
    "sklearn": "scikit-learn's predict_proba", "ray_app_decode": "json.loads + a DataFrame",
    "willump": "the compiled pipeline",
}  # fmt: skip


def machine_drift(meta: dict[str, Any]) -> list[str]:
    """This run's in-process references against the previous run's (of the file this run
    replaced): where they moved, so did everything measured on the machine (a shared VM's
    neighbours move cache- and memory-bound work by tens of percent between quiet runs)."""
    before, now = meta.get("previous_pipeline_us"), meta["pipeline_us"]
    if not before:
        return []
    cells = []
    for key, what in REFERENCES.items():
        for rows in (1, 100):
            name = f"{key}_{rows}"
            if name in before and name in now:
                change = now[name] / before[name] - 1
                cells.append(f"{what}, {rows} row(s): {before[name]:.0f} → {now[name]:.0f} µs "
                             f"({change:+.0%})")  # fmt: skip
    if not cells:
        return []
    return [
        "## The machine against the previous run", "",
        "In-process references (medians of a loop in the bench's parent; the first two run no "
        "code of this project), the previous run of this file → this one: "
        + "; ".join(cells) + ". Where they moved, absolute numbers of the two runs do not "
        "compare (nor do rows `--merge` kept): compare servers within one run, or one server "
        "against another revision at once (`python -m bench.serving_side REV`).", "",
    ]  # fmt: skip


def ray_serve_analysis(
    meta: dict[str, Any], groups: dict[tuple, list[dict[str, Any]]]
) -> list[str]:
    """Issue 15's question, answered from this run: Ray Serve's own cost per request."""
    lines = ["## Ray Serve replicas or the standalone server behind a load balancer (issue 15)", ""]
    pipe = meta["pipeline_us"]
    lines += [
        f"In-process costs on this machine during the run (medians of a loop in the bench's "
        f"parent): the compiled pipeline {pipe['willump_1']:.0f} µs for 1 row and "
        f"{pipe['willump_100']:.0f} µs for 100 rows; the scikit-learn Pipeline "
        f"{pipe['sklearn_1'] / 1e3:.2f} ms and {pipe['sklearn_100'] / 1e3:.2f} ms; the Ray "
        f"Serve app's own request handling (`json.loads` + a DataFrame from the columns) "
        f"{pipe['ray_app_decode_1']:.0f} µs and {pipe['ray_app_decode_100']:.0f} µs.",
        "",
        "`ray-serve+willump` and `willump-serve` run the *same* compiled pipeline (the save in "
        "the model repository); the Ray Serve app is the usual one (`@serve.batch`, 1 replica, "
        "JSON decoded into a DataFrame), so the gap is what Ray Serve itself costs. \"Ray's "
        "own p50\" is its p50 at concurrency 1 minus willump serve's (minus the in-process "
        "call when willump serve did not run). CPU per request is at concurrency 64, split by "
        "the server's processes.",
        "",
        "| rows | willump serve p50 ms (c=1) | Ray Serve p50 ms (c=1) | Ray's own p50 ms "
        "| willump serve CPU µs/req | Ray Serve CPU µs/req: HTTP proxy | replica | rest of Ray "
        "| willump serve req/s (c=64) | Ray Serve req/s (c=64) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    found = False
    for rows in (1, 100):
        ray = groups.get(("ray-serve+willump", "json", rows, 1))
        if not ray:
            continue
        found = True
        own_p50 = _lookup(groups, "willump-serve", rows, 1, "p50_ms")
        ray_p50 = median(ray, "p50_ms")
        base = own_p50 if own_p50 is not None else pipe[f"willump_{rows}"] / 1e3
        ray64 = groups.get(("ray-serve+willump", "json", rows, 64), [])
        split = _by_process(ray64) if ray64 else {}
        proxy = sum(v for n, v in split.items() if "Proxy" in n)
        replica = sum(v for n, v in split.items() if "ServeRepli" in n)
        rest = sum(split.values()) - proxy - replica
        lines.append(
            f"| {rows} | {_fmt(own_p50, '.2f')} | {ray_p50:.2f} | {ray_p50 - base:.2f} "
            f"| {_fmt(_lookup(groups, 'willump-serve', rows, 64, 'server_cpu_us_per_req'), '.0f')} "
            f"| {proxy:.0f} | {replica:.0f} | {rest:.0f} "
            f"| {_fmt(_lookup(groups, 'willump-serve', rows, 64, 'rps'), '.0f')} "
            f"| {_fmt(_lookup(groups, 'ray-serve+willump', rows, 64, 'rps'), '.0f')} |"
        )
    if not found:
        return lines + ["", "(ray-serve+willump did not run.)", ""]
    ray64 = groups.get(("ray-serve+willump", "json", 1, 64), [])
    split = _by_process(ray64) if ray64 else {}
    proxy = sum(v for n, v in split.items() if "Proxy" in n)
    ray_cpu = sum(split.values())
    own_cpu = _lookup(groups, "willump-serve", 1, 64, "server_cpu_us_per_req")
    decode = pipe["ray_app_decode_1"]
    machinery = ray_cpu - decode - pipe["willump_1"]
    lines += [
        "",
        f"**Conclusion.** Behind Ray Serve, a 1-row request costs {ray_cpu / 1e3:.1f} ms of CPU "
        f"at concurrency 64 ({proxy / 1e3:.1f} ms of it in Ray's HTTP proxy alone). Take away "
        f"the app's own work ({decode:.0f} µs to decode the JSON into a DataFrame, and a whole "
        f"compiled call, {pipe['willump_1']:.0f} µs, although batching shares it) and Ray "
        f"Serve's machinery still spends {machinery / 1e3:.1f} ms a request: "
        f"{machinery / max(pipe['willump_1'], 1):.0f}x the pipeline it serves"
        + (
            f"; `willump serve` spends {own_cpu:.0f} µs of CPU on the same request, so for the "
            f"same traffic Ray Serve needs {ray_cpu / own_cpu:.0f}x the CPU"
            if own_cpu
            else ""
        )
        + f". On {meta['cpus']} cores that caps Ray Serve at {meta['cpus'] / ray_cpu * 1e6:.0f} "
        "requests/s however many replicas it runs (it reached "
        f"{_fmt(_lookup(groups, 'ray-serve+willump', 1, 64, 'rps'), '.0f')}), and replicas on "
        "more nodes pay the same cost on every node, for every request. For "
        "compiled pipelines the standalone server, one process per core or node behind any "
        "HTTP load balancer (a Kubernetes Service, nginx, Envoy), is the better choice, and it "
        "has what a balancer needs: `/v2/health/ready` for readiness, 503 at once on SIGTERM "
        "while in-flight requests drain, and a bounded queue that answers 503 with Retry-After "
        "instead of queueing without limit. Ray stays the tool for batch scoring (Ray Data), "
        "where its overhead is paid once per block of rows, not once per request.",
        "",
    ]
    return lines


def _done_means(groups: dict[tuple, list[dict[str, Any]]]) -> list[str]:
    lines = ["## Issue 14's targets", ""]
    p50 = _lookup(groups, "willump-serve", 1, 1, "p50_ms")
    p99 = _lookup(groups, "willump-serve", 1, 1, "p99_ms")
    if p50 is not None and p99 is not None:
        ok = "met" if p50 <= 1 and p99 <= 3 else "NOT met"
        lines.append(
            f"- 1 row, concurrency 1 (JSON): p50 {p50:.2f} ms (≤ 1), p99 {p99:.2f} ms (≤ 3): {ok}."
        )
    for ours in ("willump-serve", "willump-serve-2w"):
        for rows in (1, 100):
            own = _lookup(groups, ours, rows, 64, "rps")
            for peer in ("mlserver", "ray-serve"):
                other = _lookup(groups, peer, rows, 64, "rps")
                if own and other:
                    ratio = own / other
                    lines.append(
                        f"- {ours}, {rows} row(s), concurrency 64, JSON: {ratio:.1f}x {peer}'s "
                        f"requests/s (≥ 5x: {'met' if ratio >= 5 else 'NOT met'})."
                    )
    if len(lines) == 2:
        lines.append("willump-serve did not run.")
    return lines + [""]


def write(meta: dict[str, Any], results: list[dict[str, Any]], md: Path, png: Path) -> None:
    """The table, the issue 14/15 sections and the plot."""
    groups = group(results)
    lines = _header("Serving: lending_club over HTTP (python -m bench.serving)")
    args = meta["args"]
    lines += [
        f"Closed-loop load generator (`bench.serving_client`, raw asyncio on uvloop, "
        f"{args['client_processes']} process; see `serving_calibration.md`) on loopback, "
        f"{args['warmup']} s warm-up then {args['duration']} s measured, {args['repeats']} "
        f"repeat(s) per configuration; each server in its own process tree, one at a time, "
        f"on the same {meta['cpus']} cores as the client. Requests: KServe V2 table requests "
        f"(`content_type: pd`, 22 columns, 5 of them strings) of 1 or 100 real test rows, "
        f"{32} distinct bodies cycled. Cells: median over repeats (min–max). "
        f"\"server CPU\" is the server's process tree's CPU time per answered request; "
        f'"others" is the CPU the rest of the machine used during the window (other '
        f'users\' load, in cores out of {meta["cpus"]}), and "load" the 1-minute load '
        f"average at the end of the window. req/s, rows/s and the latencies count 200 "
        f'answers only; "non-200" is the share of other answers (503: a server shedding '
        f"load), to which the closed loop answers with its next request at once.",
        "",
        *(f"- `{name}`: {note}" for name, note in meta["servers"].items() if name != "trivial"),
        "",
        *(
            [f"Kept from an earlier run of this file (`--merge`, not rerun here): "
             f"{', '.join(meta['kept'])}.", ""]
            if meta.get("kept") else []
        ),  # fmt: skip
        "| server | rows | concurrency | req/s | rows/s | p50 ms | p99 ms | server CPU µs/req "
        "| others (cores) | load | non-200 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in _ordered(groups):
        server, encoding, rows, conc = key
        rs = groups[key]
        answers = sum(v for r in rs for v in r["statuses"].values())
        errors = sum(v for r in rs for k, v in r["statuses"].items() if k != "200")
        codes = sorted({k for r in rs for k in r["statuses"] if k != "200"})
        shown = f"{errors / answers:.0%} ({', '.join(codes)})" if errors else "0"
        lines.append(
            f"| {_label(server, encoding)} | {rows} | {conc} "
            f"| {_spread([r['rps'] for r in rs], '.0f')} "
            f"| {median(rs, 'rps') * rows:.0f} "
            f"| {_spread([r['p50_ms'] for r in rs], '.2f')} "
            f"| {_spread([r['p99_ms'] for r in rs], '.2f')} "
            f"| {median(rs, 'server_cpu_us_per_req'):.0f} "
            f"| {median(rs, 'others_cores'):.2f} | {median(rs, 'loadavg_1m'):.1f} | {shown} |"
        )
    failures = [r for r in results if "failure" in r]
    if failures:
        lines += ["", "Failures:", ""]
        lines += [
            f"- {r['server']} {r.get('encoding', '')} {r.get('rows', '')}: {r['failure'][:400]}"
            for r in failures
        ]
    lines += ["", *_done_means(groups), *machine_drift(meta), *ray_serve_analysis(meta, groups)]
    lines.append(f"![requests/s and p99]({png.name})")
    md.write_text("\n".join(lines) + "\n")
    plot(groups, png)


def plot(groups: dict[tuple, list[dict[str, Any]]], png: Path) -> None:
    """requests/s and p99 against concurrency, for 1-row and 100-row requests."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    series = sorted(
        {(k[0], k[1]) for k in groups},
        key=lambda s: (SERVER_ORDER.index(s[0]) if s[0] in SERVER_ORDER else 99, s[1]),
    )
    for col, rows in enumerate((1, 100)):
        for server, encoding in series:
            keys = sorted(k for k in groups if k[:3] == (server, encoding, rows))
            if not keys:
                continue
            conc = [k[3] for k in keys]
            for row, metric in enumerate(("rps", "p99_ms")):
                vals = [[r[metric] for r in groups[k]] for k in keys]
                mid = [float(np.median(v)) for v in vals]
                err = [
                    [m - min(v) for m, v in zip(mid, vals, strict=True)],
                    [max(v) - m for m, v in zip(mid, vals, strict=True)],
                ]
                axes[row][col].errorbar(
                    conc,
                    mid,
                    yerr=err,
                    marker="o",
                    capsize=3,
                    linestyle="--" if encoding == "binary" else "-",
                    label=_label(server, encoding),
                )
        axes[0][col].set_title(f"{rows}-row requests")
        axes[0][col].set_ylabel("requests/s")
        axes[1][col].set_ylabel("p99 latency (ms)")
        axes[1][col].set_xlabel("concurrent connections")
        for row in (0, 1):
            axes[row][col].set_xscale("log", base=2)
            axes[row][col].set_xticks([1, 8, 64], ["1", "8", "64"])
            axes[row][col].set_yscale("log")
            axes[row][col].grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("lending_club over KServe V2 REST, loopback, 2 cores (median, min–max)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
