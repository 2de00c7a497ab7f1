#!/usr/bin/env python3
"""Aggregates one bench/run sitting: medians with min-max of every run, the MLServe/Redis ratios
and targets, bench/results/<stamp>.json, the suite table in bench/README.md (only between the
suite markers) and the median swap run's SVG. Standard library only; called by bench/run."""
import argparse
import csv
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys

BEGIN, END = "<!-- suite:begin -->", "<!-- suite:end -->"
MLBENCH = [("load-c1", "-c 1"), ("load-c50", "-c 50"), ("load-c50-P16", "-c 50 -P 16"),
           ("swap-c1", "-c 1 + swaps"), ("swap-c50", "-c 50 + swaps")]
REDIS = {"load-c1": "get-c1", "load-c50": "get-c50", "load-c50-P16": "get-c50-P16", "swap-c1": "get-c1", "swap-c50": "get-c50"}
TARGET_RATIO = {"load-c50": 1.2, "load-c50-P16": 1.0}


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def fmt(s, digits=0, scale=1.0):
    if s is None:
        return "n/a"
    f = "{:,.%df}" % digits
    return "%s (%s–%s)" % (f.format(s["median"] * scale), f.format(s["min"] * scale), f.format(s["max"] * scale))


def load_runs(work, runs):
    mlbench, redis = {}, {}
    for name, _ in MLBENCH:
        reports = []
        for r in range(1, runs + 1):
            path = os.path.join(work, "mlbench-%s-%d.json" % (name, r))
            try:
                with open(path) as f:
                    reports.append(json.load(f))
            except (OSError, ValueError):
                print("summarize: no usable report in %s" % path, file=sys.stderr)
        mlbench[name] = reports
    for name in sorted(set(REDIS.values())):
        rows = []
        for r in range(1, runs + 1):
            path = os.path.join(work, "redis-%s-%d.csv" % (name, r))
            try:
                with open(path) as f:
                    line = f.read().strip()
                fields = next(csv.reader([line]))
                rows.append({"rps": float(fields[1]), "p50": float(fields[4]), "p99": float(fields[6]), "max": float(fields[7])})
            except (OSError, ValueError, IndexError, StopIteration):
                print("summarize: no usable redis-benchmark line in %s" % path, file=sys.stderr)
        redis[name] = rows
    return mlbench, redis


def summarize(mlbench, redis):
    out = {}
    for name, _ in MLBENCH:
        reports = mlbench[name]
        s = {
            "predictionsPerSecond": spread([r["predictionsPerSecond"] for r in reports]),
            "p50": spread([r["latency"]["p50"] for r in reports]),
            "p99": spread([r["latency"]["p99"] for r in reports]),
            "p999": spread([r["latency"]["p999"] for r in reports]),
            "mlbenchCPU": spread([r["cpu"]["mlbenchMicrosPerRequest"] for r in reports]),
            "nodeCPU": spread([r["cpu"].get("nodeMicrosPerRequest") for r in reports]),
            "correctnessTotal": sum(r["correctness"]["total"] for r in reports),
        }
        if name.startswith("swap"):
            sw = [r["swaps"] for r in reports if r.get("swaps")]
            s["swapRoundTripP50"] = spread([x["roundTrip"]["p50"] for x in sw])
            s["swapRoundTripP99"] = spread([x["roundTrip"]["p99"] for x in sw])
            s["swapRoundTripMax"] = spread([x["roundTrip"]["max"] for x in sw])
            s["swapInNodeP50"] = spread([x["inNode"]["p50"] for x in sw if "inNode" in x])
            s["swapInNodeP99"] = spread([x["inNode"]["p99"] for x in sw if "inNode" in x])
            s["p99NearSwaps"] = spread([x["nearSwaps"]["p99"] for x in sw])
            s["p99AwayFromSwaps"] = spread([x["awayFromSwaps"]["p99"] for x in sw])
            s["p99NearOverAway"] = spread([x["p99NearOverAway"] for x in sw])
            s["swaps"] = sum(x["count"] for x in sw)
        ref = redis.get(REDIS[name], [])
        s["redis"] = {k: spread([row[k] for row in ref]) for k in ("rps", "p50", "p99")}
        if s["predictionsPerSecond"] and s["redis"]["rps"]:
            s["ratio"] = s["predictionsPerSecond"]["median"] / s["redis"]["rps"]["median"]
        else:
            s["ratio"] = None
        out[name] = s
    return out


def verdict(ok):
    return "n/a" if ok is None else ("**yes**" if ok else "**no**")


def table(summary, meta):
    lines = [
        "Sitting of %s · commit `%s` · %s · %s build of mlbench and mlserve · %d runs each, "
        "**median (min–max)** · %s s measured after %s s warm-up per mlbench run." % (
            meta["stamp"], meta["commit"], meta["machine"], meta["build"], meta["runs"], meta["duration"], meta["warmup"]),
        "Client and node share the same 2 cores: mlbench drives every connection from one epoll thread and "
        "starts the node with cores − 1 = 1 event loop (plus its idle control loop), as redis-server is one thread "
        "beside redis-benchmark. The swap runs use a durable state file (every swap persisted before its ack). "
        "Other work on the box at the time shows up as spread.",
        "",
        "| configuration | MLServe predictions/s | p50 ms | p99 ms | CPU µs/req mlbench · node | Redis GET -d 128 req/s | Redis p50 · p99 ms | MLServe / Redis | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, label in MLBENCH:
        s = summary[name]
        r = s["redis"]
        target = TARGET_RATIO.get(name)
        ratio = s["ratio"]
        ok = None if target is None or ratio is None else ratio >= target
        cpu = "%s · %s" % (fmt(s["mlbenchCPU"], 2), fmt(s["nodeCPU"], 2)) if s["mlbenchCPU"] else "n/a"
        redis_lat = "%s · %s" % (fmt(r["p50"], 3), fmt(r["p99"], 3)) if r["p50"] else "n/a"
        lines.append("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, fmt(s["predictionsPerSecond"]), fmt(s["p50"], 3), fmt(s["p99"], 3), cpu,
            fmt(r["rps"]), redis_lat, "n/a" if ratio is None else "%.2f×" % ratio,
            "≥ %.1f×" % target if target else "—", verdict(ok) if target else "—"))
    s = summary["swap-c50"]
    idle = summary["swap-c1"]
    rtt99 = s.get("swapRoundTripP99")
    near = s.get("p99NearOverAway")
    lines += [
        "",
        "Swaps every %s ms, fenced on the expected active version, alternating, each persisted to the state "
        "file before its acknowledgement (%d swaps under `-c 50`, %d beside a single connection, over all runs)." % (
            meta["swapEvery"], s.get("swaps", 0), idle.get("swaps", 0)),
        "",
        "| swap metric | beside 1 connection | under `-c 50` | target (`-c 50`) | met |",
        "|---|---|---|---|---|",
        "| swap inside the node p50 ms (fence check → durable → published) | %s | %s | — | — |" % (
            fmt(idle.get("swapInNodeP50"), 3), fmt(s.get("swapInNodeP50"), 3)),
        "| swap inside the node p99 ms | %s | %s | — | — |" % (fmt(idle.get("swapInNodeP99"), 3), fmt(s.get("swapInNodeP99"), 3)),
        "| swap round trip p50 ms | %s | %s | — | — |" % (fmt(idle.get("swapRoundTripP50"), 3), fmt(s.get("swapRoundTripP50"), 3)),
        "| swap round trip p99 ms | %s | %s | ≤ 0.5 | %s |" % (
            fmt(idle.get("swapRoundTripP99"), 3), fmt(rtt99, 3), verdict(None if not rtt99 else rtt99["median"] <= 0.5)),
        "| swap round trip max ms | %s | %s | — | — |" % (fmt(idle.get("swapRoundTripMax"), 3), fmt(s.get("swapRoundTripMax"), 3)),
        "| prediction p99 near swaps (±5 ms) ms | %s | %s | — | — |" % (fmt(idle.get("p99NearSwaps"), 3), fmt(s.get("p99NearSwaps"), 3)),
        "| prediction p99 away from swaps ms | %s | %s | — | — |" % (fmt(idle.get("p99AwayFromSwaps"), 3), fmt(s.get("p99AwayFromSwaps"), 3)),
        "| p99 near / away | %s | %s | ≤ 1.05 | %s |" % (
            fmt(idle.get("p99NearOverAway"), 3), fmt(near, 3), verdict(None if not near else near["median"] <= 1.05)),
        "| correctness counters, summed over every run of the suite | %d | 0 | %s |" % (
            sum(summary[n]["correctnessTotal"] for n, _ in MLBENCH), verdict(sum(summary[n]["correctnessTotal"] for n, _ in MLBENCH) == 0)),
        "",
        "Latency over time in the median swap run (per-10 ms p99 and max, swaps in red): "
        "[`results/%s-swap.svg`](results/%s-swap.svg)" % (meta["stamp"], meta["stamp"]),
        "",
        "![prediction latency over time with swaps](results/%s-swap.svg)" % meta["stamp"],
    ]
    return "\n".join(lines)


def update_readme(path, generated):
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        print("summarize: %s has no %s / %s markers; table not written" % (path, BEGIN, END), file=sys.stderr)
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path + ".tmp", "w") as f:
        f.write(head + BEGIN + "\n" + generated + "\n" + END + tail)
    os.replace(path + ".tmp", path)
    return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--stamp", required=True)
    p.add_argument("--mlbench", required=True)
    p.add_argument("--duration", required=True)
    p.add_argument("--warmup", required=True)
    p.add_argument("--swap-every", required=True)
    p.add_argument("--no-readme", action="store_true")
    a = p.parse_args()
    mlbench, redis = load_runs(a.work, a.runs)
    summary = summarize(mlbench, redis)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), model)
    except OSError:
        pass
    builds = {r.get("build", "?") for reports in mlbench.values() for r in reports}
    meta = {"stamp": a.stamp, "commit": commit + " (+ uncommitted changes)" if subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip() else commit,
            "machine": "%d cores (%s), Linux %s" % (os.cpu_count() or 0, model, platform.release()),
            "build": "/".join(sorted(builds)), "runs": a.runs, "duration": a.duration, "warmup": a.warmup,
            "swapEvery": a.swap_every, "mlbench": a.mlbench}
    result = {"meta": meta, "summary": summary, "mlbench": mlbench, "redis": redis}
    out = "bench/results/%s.json" % a.stamp
    with open(out, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    # The median swap run's plot (by predictions/s), beside the results.
    swaps = [(r["predictionsPerSecond"], i + 1) for i, r in enumerate(mlbench["swap-c50"])]
    if swaps:
        run = sorted(swaps)[len(swaps) // 2][1]
        svg = os.path.join(a.work, "swap-c50-%d.svg" % run)
        if os.path.exists(svg):
            shutil.copy(svg, "bench/results/%s-swap.svg" % a.stamp)
    generated = table(summary, meta)
    print("\n" + generated + "\n")
    print("wrote %s" % out)
    if not a.no_readme and update_readme("bench/README.md", generated):
        print("updated the suite table in bench/README.md")


if __name__ == "__main__":
    main()
