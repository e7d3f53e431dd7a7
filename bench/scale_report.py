#!/usr/bin/env python3
"""bench/scale's report: each path's req/s and p99 on the seeded store as a
ratio to the empty store's, start-up and RSS of both; a table on stdout,
OUT.json and an SVG bar chart OUT.svg (standard library only).
Usage: scale_report.py results.jsonl OUT --meta JSON"""
import argparse
import json

# The goals: within 10 % of the empty store; start-up under 1 s;
# RSS under load at most 64 MiB, idle at most 30 MiB.
FLAT = 0.9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("out")
    ap.add_argument("--meta", default="{}")
    a = ap.parse_args()
    meta = json.loads(a.meta)
    paths, sides = {}, {}
    with open(a.results) as f:
        for line in f:
            r = json.loads(line)
            if "path" in r:
                # Each store's better round of the two.
                best = paths.setdefault(r["path"], {})
                old = best.get(r["side"])
                if old is None or r["wrk"]["rps"] > old["wrk"]["rps"]:
                    best[r["side"]] = r
            else:
                sides[r["side"]] = r
    rows = []
    for name, s in paths.items():
        e, d = s["empty"]["wrk"], s["seeded"]["wrk"]
        rows.append({
            "path": name,
            "empty_rps": e["rps"], "seeded_rps": d["rps"],
            "ratio": round(d["rps"] / e["rps"], 3) if e["rps"] else 0.0,
            "empty_p99_us": e["p99_us"], "seeded_p99_us": d["p99_us"],
            "errors": e["non2xx"] + e["socket_errors"] + d["non2xx"] + d["socket_errors"],
        })
    head = f"{'path':<18} {'empty req/s':>11} {'seeded req/s':>12} {'ratio':>6} {'p99 empty/seeded ms':>20} {'errors':>6}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['path']:<18} {r['empty_rps']:>11.0f} {r['seeded_rps']:>12.0f} {r['ratio']:>6.2f} "
              f"{r['empty_p99_us']/1000:>9.2f}/{r['seeded_p99_us']/1000:<10.2f} {r['errors']:>6}")
    for label in ("empty", "seeded"):
        s = sides[label]
        print(f"{label:<7} start-up {s['startup_ms']} ms, RSS idle {s['rss_idle_kib']/1024:.1f} MiB, "
              f"peak {s['rss_peak_kib']/1024:.1f} MiB, database {s['db_bytes']/2**20:.0f} MiB")
    doc = {"meta": meta, "paths": rows, "stores": sides}
    with open(a.out + ".json", "w") as f:
        json.dump(doc, f, indent=1)
    with open(a.out + ".svg", "w") as f:
        f.write(svg(rows, sides, meta))
    print(f"wrote {a.out}.json and {a.out}.svg")


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(rows, sides, meta):
    w, bar, gap, left = 760, 22, 10, 170
    h = 90 + len(rows) * (bar + gap) + 70
    scale = (w - left - 80) / 1.2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="10" y="20" font-size="14">dewstack at scale: seeded store / empty store, req/s '
           f'({esc(meta.get("keys"))} keys, {esc(meta.get("secrets"))} secrets, {esc(meta.get("projects"))} projects)</text>',
           f'<text x="10" y="38" fill="#555">{esc(meta.get("machine"))}, {esc(meta.get("date"))}, '
           f'{esc(meta.get("cores"))} cores shared; both stores in one run</text>']
    x1 = left + scale * 1.0
    x09 = left + scale * FLAT
    top = 55
    out.append(f'<line x1="{x1}" y1="{top}" x2="{x1}" y2="{h-70}" stroke="#999"/>')
    out.append(f'<line x1="{x09}" y1="{top}" x2="{x09}" y2="{h-70}" stroke="#c00" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{x09-40}" y="{top-3}" fill="#c00">goal 0.9</text>')
    for i, r in enumerate(rows):
        y = top + 8 + i * (bar + gap)
        colour = "#2a7" if r["ratio"] >= FLAT else "#d73"
        out.append(f'<text x="10" y="{y+15}">{esc(r["path"])}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{scale*min(r["ratio"],1.2):.1f}" height="{bar}" fill="{colour}"/>')
        out.append(f'<text x="{left+scale*min(r["ratio"],1.2)+5:.1f}" y="{y+15}">{r["ratio"]:.2f}</text>')
    y = h - 45
    for label in ("empty", "seeded"):
        s = sides[label]
        out.append(f'<text x="10" y="{y}">{label}: start-up {s["startup_ms"]} ms, RSS idle '
                   f'{s["rss_idle_kib"]/1024:.1f} MiB, peak {s["rss_peak_kib"]/1024:.1f} MiB, '
                   f'database {s["db_bytes"]/2**20:.0f} MiB</text>')
        y += 18
    out.append("</svg>")
    return "\n".join(out)


if __name__ == "__main__":
    main()
