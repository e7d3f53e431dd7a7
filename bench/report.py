#!/usr/bin/env python3
"""bench/run's report: the table on stdout, the results as JSON and a bar chart
as SVG (standard library only). Usage: report.py results.jsonl OUT --meta JSON
writes OUT.json and OUT.svg."""
import argparse
import json
import sys

# Issue 12's goals: the four read paths at 0.5 of bare HTTP, the tag writes
# (durable) at 0.3, each with a p99 at most P99_GOAL times the bare server's.
# The other paths are measured and reported with no goal (None): Sign,
# GenerateMac and CreateDatakey ("report them too"), and the other durable
# writes ("report writes/s").
GOAL = {"EncryptData": 0.5, "DecryptData": 0.5, "DescribeKey": 0.5,
        "ShowSecretVersion": 0.5, "BatchCreateKmsTags": 0.3}
P99_GOAL = 2.0


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def summarize(rows, meta):
    out = []
    for r in rows:
        b, d = r["bare"], r["dewstack"]
        errors = d["non2xx"] + d["socket_errors"] + b["non2xx"] + b["socket_errors"]
        cpu_us = r["dewstack_cpu_ticks"] * 1e6 / meta.get("clk_tck", 100) / max(d["requests"], 1)
        ratio = d["rps"] / b["rps"] if b["rps"] else 0.0
        out.append({
            "path": r["path"],
            "bare_rps": round(b["rps"], 1),
            "dewstack_rps": round(d["rps"], 1),
            "ratio": round(ratio, 3),
            "goal": GOAL.get(r["path"]),
            "bare_p50_us": b["p50_us"], "bare_p99_us": b["p99_us"],
            "dewstack_p50_us": d["p50_us"], "dewstack_p99_us": d["p99_us"],
            "errors": errors,
            "dewstack_cpu_us_per_req": round(cpu_us, 1),
            "bare_cpu_us_per_req": round(
                r.get("bare_cpu_ticks", 0) * 1e6 / meta.get("clk_tck", 100) / max(b["requests"], 1), 1),
            "dewstack_rss_kib": r.get("dewstack_rss_kib"),
            "distinct_requests": r.get("distinct_requests"),
        })
        if "dewstack_context_switches" in r:
            # perf stat over the wrk run (BENCH_PERF_STAT=1); the counting
            # window is the run's length, so divide by its requests.
            n = max(d["requests"], 1)
            out[-1]["dewstack_instructions_per_req"] = round(r["dewstack_instructions"] / n)  # 0: no counters
            out[-1]["dewstack_context_switches_per_req"] = round(
                r["dewstack_context_switches"] / n, 2)
            out[-1]["dewstack_thread_switches_per_req"] = {
                k: round(v / n, 3) for k, v in r.get("dewstack_thread_switches", {}).items()}
            out[-1]["bare_context_switches_per_req"] = round(
                r.get("bare_context_switches", 0) / max(b["requests"], 1), 2)
            out[-1]["dewstack_syscalls_per_req"] = round(r.get("dewstack_syscalls", 0) / n, 2)
            out[-1]["bare_syscalls_per_req"] = round(
                r.get("bare_syscalls", 0) / max(b["requests"], 1), 2)
        a = r.get("base")
        if a:
            # The A/B of BENCH_BASE_BIN: the older binary, measured in the same run.
            out[-1].update({
                "base_rps": round(a["rps"], 1),
                "base_ratio": round(a["rps"] / b["rps"], 3) if b["rps"] else 0.0,
                "base_p50_us": a["p50_us"], "base_p99_us": a["p99_us"],
                "base_errors": a["non2xx"] + a["socket_errors"],
                "base_cpu_us_per_req": round(
                    r["base_cpu_ticks"] * 1e6 / meta.get("clk_tck", 100) / max(a["requests"], 1), 1),
            })
        both = r.get("both")
        if both:
            # BENCH_BOTH_NODES: both processes under load at once.
            tick = 1e6 / meta.get("clk_tck", 100)
            n, m = both["new"], both["base"]
            out[-1]["both_nodes"] = {
                "new_rps": round(n["rps"], 1), "base_rps": round(m["rps"], 1),
                "total_rps": round(n["rps"] + m["rps"], 1),
                "new_cpu_us_per_req": round(both["new_cpu_ticks"] * tick / max(n["requests"], 1), 1),
                "base_cpu_us_per_req": round(both["base_cpu_ticks"] * tick / max(m["requests"], 1), 1),
                "new_p99_us": n["p99_us"], "base_p99_us": m["p99_us"],
                "errors": n["non2xx"] + n["socket_errors"] + m["non2xx"] + m["socket_errors"],
            }
    return out


def table(rows):
    head = f"{'path':<20} {'bare req/s':>10} {'dew req/s':>10} {'ratio':>6} {'goal':>5} " \
           f"{'bare p50/p99 ms':>16} {'dew p50/p99 ms':>16} {'p99/bare':>8} {'cpu us/req':>10} {'errors':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        goal = "-" if r["goal"] is None else f"{r['goal']:.1f}"
        lines.append(
            f"{r['path']:<20} {r['bare_rps']:>10.0f} {r['dewstack_rps']:>10.0f} {r['ratio']:>6.2f} "
            f"{goal:>5} {r['bare_p50_us']/1000:>7.2f}/{r['bare_p99_us']/1000:<8.2f} "
            f"{r['dewstack_p50_us']/1000:>7.2f}/{r['dewstack_p99_us']/1000:<8.2f} "
            f"{p99_factor(r):>8.2f} {r['dewstack_cpu_us_per_req']:>10.1f} {r['errors']:>6}")
    goals = [r for r in rows if r["goal"] is not None]
    if goals:
        missed = [f"{r['path']} ({why})" for r in goals for why in [misses(r)] if why]
        lines.append(f"goals (ratio, p99 <= {P99_GOAL:.0f}x bare, no errors): "
                     + (f"missed by {', '.join(missed)}" if missed
                        else f"met by all {len(goals)} paths that have one"))
    if any("dewstack_instructions_per_req" in r for r in rows):
        lines += ["", f"{'perf stat: path':<20} {'instructions/req':>16} {'context switches/req':>20} "
                      f"{'bare cs/req':>11} {'syscalls/req':>12} {'bare sc/req':>11}"]
        for r in rows:
            if "dewstack_instructions_per_req" in r:
                lines.append(f"{r['path']:<20} {r['dewstack_instructions_per_req']:>16} "
                             f"{r['dewstack_context_switches_per_req']:>20.2f} "
                             f"{r['bare_context_switches_per_req']:>11.2f} "
                             f"{r['dewstack_syscalls_per_req']:>12.2f} {r['bare_syscalls_per_req']:>11.2f}  "
                             + " ".join(f"{k}={v}" for k, v in
                                        sorted(r["dewstack_thread_switches_per_req"].items())))
    if any("base_rps" in r for r in rows):
        head = f"{'A/B: path':<20} {'base req/s':>10} {'new req/s':>10} {'new/base':>8} " \
               f"{'base ratio':>10} {'new ratio':>9} {'base cpu us':>11} {'new cpu us':>10} {'base p99 ms':>11}"
        lines += ["", head, "-" * len(head)]
        for r in rows:
            if "base_rps" not in r:
                continue
            gain = r["dewstack_rps"] / r["base_rps"] if r["base_rps"] else 0.0
            lines.append(
                f"{r['path']:<20} {r['base_rps']:>10.0f} {r['dewstack_rps']:>10.0f} {gain:>8.2f} "
                f"{r['base_ratio']:>10.2f} {r['ratio']:>9.2f} {r['base_cpu_us_per_req']:>11.1f} "
                f"{r['dewstack_cpu_us_per_req']:>10.1f} {r['base_p99_us']/1000:>11.2f}")
    if any("both_nodes" in r for r in rows):
        head = f"{'both nodes: path':<20} {'new req/s':>10} {'base req/s':>10} {'total':>8} " \
               f"{'new cpu us':>10} {'base cpu us':>11} {'p99 ms new/base':>16} {'errors':>6}"
        lines += ["", head, "-" * len(head)]
        for r in rows:
            t = r.get("both_nodes")
            if t:
                lines.append(
                    f"{r['path']:<20} {t['new_rps']:>10.0f} {t['base_rps']:>10.0f} {t['total_rps']:>8.0f} "
                    f"{t['new_cpu_us_per_req']:>10.1f} {t['base_cpu_us_per_req']:>11.1f} "
                    f"{t['new_p99_us']/1000:>7.2f}/{t['base_p99_us']/1000:<8.2f} {t['errors']:>6}")
    return "\n".join(lines)


def p99_factor(r):
    return r["dewstack_p99_us"] / r["bare_p99_us"] if r["bare_p99_us"] else 0.0


def misses(r):
    """Why a path with a goal misses it ("" when it meets it)."""
    why = []
    if r["ratio"] < r["goal"]:
        why.append(f"ratio {r['ratio']:.2f} < {r['goal']}")
    if p99_factor(r) > P99_GOAL:
        why.append(f"p99 {p99_factor(r):.1f}x bare")
    if r["errors"]:
        why.append(f"{r['errors']} errors")
    return ", ".join(why)


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(rows, meta):
    """Horizontal bars: the ratio to bare HTTP per path, with its goal marked (green:
    goals met, red: missed or errors, grey: reported with no goal)."""
    bar_h, gap, left, width, top = 18, 10, 170, 420, 50
    h = top + len(rows) * (bar_h + gap) + 40
    w = left + width + 120
    x = lambda v: left + min(v, 1.2) / 1.2 * width
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">dewstack req/s ÷ bare axum req/s '
        f'(wrk, {meta.get("connections")} connections)</text>',
        f'<text x="10" y="38" fill="#555">{esc(meta.get("machine"))}, {meta.get("cores")} cores, '
        f'{esc(meta.get("date"))}, {meta.get("seconds")} s per path and server</text>',
    ]
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{h - 30}" stroke="#ddd"/>')
        parts.append(f'<text x="{x(t):.1f}" y="{h - 16}" text-anchor="middle" fill="#555">{t:.2f}</text>')
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        if r["goal"] is None:
            color = "#7f8c8d" if r["errors"] == 0 else "#c0392b"
        else:
            color = "#c0392b" if misses(r) else "#3a7d44"
        parts.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{esc(r["path"])}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{x(r["ratio"]) - left:.1f}" height="{bar_h}" fill="{color}"/>')
        if r["goal"] is not None:
            parts.append(f'<line x1="{x(r["goal"]):.1f}" y1="{y - 2}" x2="{x(r["goal"]):.1f}" y2="{y + bar_h + 2}" '
                         f'stroke="black" stroke-width="2"/>')
        parts.append(f'<text x="{x(min(r["ratio"], 1.2)) + 6:.1f}" y="{y + 13}">{r["ratio"]:.2f} '
                     f'({r["dewstack_rps"]:.0f}/s)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("out")
    ap.add_argument("--meta", default="{}")
    a = ap.parse_args()
    meta = json.loads(a.meta)
    rows = summarize(load(a.results), meta)
    print(table(rows))
    print(f"start-up {meta.get('startup_ms')} ms; RSS idle {meta.get('rss_idle_kib', 0) / 1024:.1f} MiB, "
          f"peak {meta.get('rss_peak_kib', 0) / 1024:.1f} MiB, after {meta.get('rss_after_kib', 0) / 1024:.1f} MiB")
    with open(a.out + ".json", "w") as f:
        json.dump({"meta": meta, "paths": rows}, f, indent=1)
        f.write("\n")
    with open(a.out + ".svg", "w") as f:
        f.write(svg(rows, meta))
    print(f"wrote {a.out}.json and {a.out}.svg")
    bad = [r["path"] for r in rows
           if r["errors"] or r.get("base_errors") or r.get("both_nodes", {}).get("errors")]
    if bad:
        print(f"errors on: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
