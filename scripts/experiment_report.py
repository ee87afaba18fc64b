#!/usr/bin/python3
"""The experiment's report: reads the CSVs scripts/experiment.sh wrote
(algo,phase,start_s,latency_ms,backend,error per request) and writes
OUT/experiment.md (a table per phase) and OUT/experiment-share.png,
OUT/experiment-latency.png, OUT/experiment-killed.png.

Shares count answered requests; p50 and p99 are over answered requests
(nearest rank); failed counts the rest (refused, reset, timeout, ...).
"""
import argparse
import collections
import csv
import datetime
import math
import os
import platform

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PHASES = ("healthy", "slowed", "killed")
BACKENDS = ("b1", "b2", "b3", "b4", "b5")


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = max(1, math.ceil(p / 100 * len(sorted_vals)))
    return sorted_vals[k - 1]


def load(paths):
    rows = collections.defaultdict(list)   # (algo, phase) -> rows
    algos = []
    for path in paths:
        with open(path) as f:
            for r in csv.reader(f):
                if len(r) != 6:
                    continue
                algo, phase = r[0], r[1]
                if algo not in algos:
                    algos.append(algo)
                rows[(algo, phase)].append(
                    (float(r[2]), float(r[3]), r[4], r[5]))
    return algos, rows


def summary(rs):
    ok = sorted(lat for _, lat, _, err in rs if not err)
    n_ok = len(ok)
    share = collections.Counter(be for _, _, be, err in rs if not err)
    errs = collections.Counter(err for _, _, _, err in rs if err)
    return {
        "n": len(rs), "ok": n_ok,
        "share": {b: 100.0 * share[b] / n_ok if n_ok else 0 for b in BACKENDS},
        "p50": pct(ok, 50), "p99": pct(ok, 99),
        "failed": len(rs) - n_ok, "errors": errs,
    }


def table(algos, rows, a):
    out = []
    for ph in PHASES:
        what = {"healthy": "all five backends healthy",
                "slowed": "%s adds 100 ms to every answer" % a.slow,
                "killed": "%s killed as the phase starts" % a.dead}[ph]
        out.append("### %s: %s\n" % (ph, what))
        out.append("| algo | " + " | ".join(BACKENDS) +
                   " | p50 ms | p99 ms | failed |")
        out.append("|---|" + "---:|" * (len(BACKENDS) + 3))
        for algo in algos:
            s = summary(rows[(algo, ph)])
            errs = ", ".join("%d %s" % (n, e)
                             for e, n in s["errors"].most_common())
            out.append("| %s | %s | %.1f | %.1f | %d of %d%s |" % (
                algo, " | ".join("%.1f %%" % s["share"][b] for b in BACKENDS),
                s["p50"], s["p99"], s["failed"], s["n"],
                " (%s)" % errs if errs else ""))
        out.append("")
    return "\n".join(out)


def plot_share(algos, rows, path):
    fig, axes = plt.subplots(1, len(PHASES), figsize=(13, 4), sharey=True)
    colors = plt.cm.tab10.colors
    for ax, ph in zip(axes, PHASES):
        bottom = [0.0] * len(algos)
        for k, b in enumerate(BACKENDS):
            v = [summary(rows[(al, ph)])["share"][b] for al in algos]
            ax.bar(algos, v, bottom=bottom, label=b, color=colors[k])
            bottom = [x + y for x, y in zip(bottom, v)]
        ax.set_title(ph)
        ax.axhline(20, color="grey", lw=0.5, ls=":")
        ax.tick_params(axis="x", rotation=30)
    axes[0].set_ylabel("share of answered requests (%)")
    axes[-1].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_latency(algos, rows, path):
    fig, axes = plt.subplots(1, len(PHASES), figsize=(13, 4), sharey=True)
    x = range(len(algos))
    for ax, ph in zip(axes, PHASES):
        s = [summary(rows[(al, ph)]) for al in algos]
        ax.bar([i - 0.2 for i in x], [v["p50"] for v in s], 0.4, label="p50")
        ax.bar([i + 0.2 for i in x], [v["p99"] for v in s], 0.4, label="p99")
        ax.set_xticks(list(x))
        ax.set_xticklabels(algos, rotation=30)
        ax.set_title(ph)
        ax.set_yscale("log")
    axes[0].set_ylabel("latency of answered requests (ms)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_killed(algos, rows, path):
    """Failed requests per 100 ms over the killed phase's first 3 s."""
    fig, ax = plt.subplots(figsize=(8, 4))
    bins = 30
    for al in algos:
        per = collections.Counter(int(t * 10) for t, _, _, err
                                  in rows[(al, "killed")] if err)
        ax.plot([i / 10 for i in range(bins)], [per[i] for i in range(bins)],
                marker=".", label=al)
    ax.set_xlabel("seconds since the server was killed")
    ax.set_ylabel("failed requests per 100 ms")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("csv", nargs="+")
    p.add_argument("--out", default="docs")
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--phase-s", type=float, required=True)
    p.add_argument("--slow", default="b2")
    p.add_argument("--dead", default="b5")
    p.add_argument("--commit", default="unknown")
    p.add_argument("--clients", type=int, default=1)
    a = p.parse_args()
    algos, rows = load(a.csv)
    os.makedirs(a.out, exist_ok=True)
    plot_share(algos, rows, os.path.join(a.out, "experiment-share.png"))
    plot_latency(algos, rows, os.path.join(a.out, "experiment-latency.png"))
    plot_killed(algos, rows, os.path.join(a.out, "experiment-killed.png"))
    md = [
        "# The experiment: algorithms against a slow and a dead server",
        "",
        "Written by `make experiment` (scripts/experiment.sh, "
        "scripts/experiment_report.py); do not edit: run it again.",
        "",
        "One xlb node, five HTTP backends (tests/e2e/backend.py) and a "
        "client in network namespaces on one machine; the client opens "
        "%g new connections a second (open loop, scripts/loadgen.py) from "
        "%d addresses in turn, each one request, for %g s per phase and "
        "algorithm. Each "
        "algorithm gets a fresh VIP with an HTTP check every 0.5 s "
        "(down after 2 failures). Shares count answered requests; p50 "
        "and p99 are over answered requests; failed counts the rest."
        % (a.rate, a.clients, a.phase_s),
        "",
        "Run: %s UTC, commit %s, kernel %s." % (
            datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
            a.commit, platform.release()),
        "",
        table(algos, rows, a),
        "![share per backend](experiment-share.png)",
        "",
        "![latency](experiment-latency.png)",
        "",
        "![failures after the kill](experiment-killed.png)",
        "",
    ]
    with open(os.path.join(a.out, "experiment.md"), "w") as f:
        f.write("\n".join(md))
    print("experiment: wrote %s/experiment.md and 3 plots" % a.out)


if __name__ == "__main__":
    main()
