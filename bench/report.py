"""Turns bench/pace.c's lines into bench/results.json, a markdown table on
stdout (the README's benchmark section) and a PNG chart.

    report.py PACE.txt CGMOVE.json GAP ROUNDS MACHINE RESULTS.json CHART.png
"""
import datetime
import json
import sys

pace_txt, cg_json, gap, rounds, machine, out_json, out_png = sys.argv[1:8]
gap, rounds = int(gap), int(rounds)
paces = {}
conc = None
transfers = []
for line in open(pace_txt):
    w = line.split()
    if w and w[0] == "pace":
        paces.setdefault(int(w[1]), {})[w[2]] = {
            "p50_ms": float(w[4]) / 1000, "p95_ms": float(w[6]) / 1000,
            "n": int(w[8]), "failures": int(w[10])}
    elif w and w[0] == "transfer":
        transfers.append((int(w[2]), int(w[4]), int(w[6])))
    elif w and w[0] == "concurrent":
        conc = {"processes": int(w[1]), "p50_ms": float(w[3]) / 1000,
                "p95_ms": float(w[5]) / 1000, "n": int(w[7]), "failures": int(w[9])}
try:
    cgmove = json.load(open(cg_json))
except (OSError, ValueError):
    cgmove = None

# target: (name, case, anchor case, bound)
TARGETS = [
    ("cold one-shot vs bwrap", "ours", "bwrap", 0.6),
    ("run --warm vs bwrap", "ours-warm", "bwrap", 0.4),
    ("CLI session exec vs host fork+exec", "cli-exec", "host", 2.0),
    ("C API session exec vs host fork+exec", "api-exec", "host", 1.2),
    ("python print(1) cold vs bwrap", "py-ours", "py-bwrap", 1.2),
]


def ratio(p, case, anchor):
    c, a = paces.get(p, {}).get(case), paces.get(p, {}).get(anchor)
    if not c or not a or a["p50_ms"] <= 0 or c["p50_ms"] < 0:
        return None
    return c["p50_ms"] / a["p50_ms"]


targets = []
for name, case, anchor, bound in TARGETS:
    t = {"target": name, "bound": bound}
    for p in sorted(paces):
        r = ratio(p, case, anchor)
        t[f"ratio_gap_{p}ms"] = None if r is None else round(r, 3)
        t[f"met_gap_{p}ms"] = None if r is None else r <= bound
    targets.append(t)
if conc:
    cold = [paces[p]["ours"]["p50_ms"] for p in paces if "ours" in paces[p]]
    bound = 5 * max(cold) if cold else None
    conc_t = {"target": f"{conc['processes']} concurrent create+exec+destroy: "
                              "0 failures, p95 <= 5x cold p50",
                    "p95_over_cold_p50": round(conc["p95_ms"] / min(cold), 2) if cold else None,
                    "failures": conc["failures"],
                    "met": bool(cold) and conc["failures"] == 0 and conc["p95_ms"] <= 5 * min(cold)}
    targets.append(conc_t)

transfer = None
if transfers:
    med = lambda v: sorted(v)[len(v) // 2]
    ok = [t for t in transfers if t[1] > 0 and t[2] > 0]
    if ok:
        h, i, o = med([t[0] for t in ok]), med([t[1] for t in ok]), med([t[2] for t in ok])
        transfer = {"bytes": 1 << 30, "runs": len(transfers), "failed": len(transfers) - len(ok),
                    "cp_s": h / 1e6, "into_s": i / 1e6, "out_s": o / 1e6,
                    "into_speed_vs_cp": round(h / i, 3), "out_speed_vs_cp": round(h / o, 3)}
        for way in ("into", "out"):
            targets.append({"target": f"1 GiB {way} a session at >= 0.7x the speed of cp",
                            "speed_vs_cp": transfer[f"{way}_speed_vs_cp"],
                            "met": transfer[f"{way}_speed_vs_cp"] >= 0.7})

res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
       "machine": machine, "rounds": rounds, "paces_ms": sorted(paces),
       "cases": {str(p): v for p, v in sorted(paces.items())}, "concurrent": conc,
       "transfer": transfer, "targets": targets, "cgroup_moves_after_gap": cgmove}
json.dump(res, open(out_json, "w"), indent=2)

# markdown
print(f"Measured {res['date']} on {machine}; {rounds} rounds, every case in one "
      f"interleaved run, back to back and {gap} ms apart.\n")
hdr = "| case | " + " | ".join(f"p50 / p95 ms ({p} ms apart)" if p else "p50 / p95 ms (back to back)"
                                for p in sorted(paces)) + " |"
print(hdr)
print("|---" * (len(paces) + 1) + "|")
names = []
for p in sorted(paces):
    for n in paces[p]:
        if n not in names:
            names.append(n)
for n in names:
    cells = []
    for p in sorted(paces):
        c = paces[p].get(n)
        cells.append("—" if not c else f"{c['p50_ms']:.2f} / {c['p95_ms']:.2f}"
                     + (f" ({c['failures']} failed)" if c["failures"] else ""))
    print(f"| {n} | " + " | ".join(cells) + " |")
print()
print("| target | " + " | ".join(f"{'back to back' if p == 0 else f'{p} ms apart'}"
                                  for p in sorted(paces)) + " |")
print("|---" * (len(paces) + 1) + "|")
for t in targets:
    if "bound" in t:
        cells = []
        for p in sorted(paces):
            r = t[f"ratio_gap_{p}ms"]
            cells.append("—" if r is None else f"{r:.2f}× ({'met' if r <= t['bound'] else 'missed'})")
        print(f"| {t['target']} ≤ {t['bound']}× | " + " | ".join(cells) + " |")
if conc:
    t = conc_t
    print(f"| {t['target']} | p50 {conc['p50_ms']:.1f} ms, p95 {conc['p95_ms']:.1f} ms "
          f"({t['p95_over_cold_p50']}× cold p50), {conc['failures']} failures "
          f"({'met' if t['met'] else 'missed'}) | |")
if transfer:
    print(f"| 1 GiB into a session (speed vs cp) ≥ 0.7× | {transfer['into_speed_vs_cp']:.2f}× "
          f"({transfer['into_s']:.2f} s vs {transfer['cp_s']:.2f} s; "
          f"{'met' if transfer['into_speed_vs_cp'] >= 0.7 else 'missed'}) | |")
    print(f"| 1 GiB out of a session (speed vs cp) ≥ 0.7× | {transfer['out_speed_vs_cp']:.2f}× "
          f"({transfer['out_s']:.2f} s vs {transfer['cp_s']:.2f} s; "
          f"{'met' if transfer['out_speed_vs_cp'] >= 0.7 else 'missed'}) | |")
if cgmove:
    print()
    print(f"Entering a cgroup after a {cgmove['gap_ms']} ms gap (bench/cgmove.c, p50 / p95 µs):")
    print()
    for k, v in cgmove.items():
        if isinstance(v, dict):
            print(f"- {k}: {v['p50_us']:.0f} / {v['p95_us']:.0f}")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(0)
fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
ps = sorted(paces)
width = 0.8 / len(ps)
for i, p in enumerate(ps):
    xs = [k + i * width for k in range(len(names))]
    p50 = [paces[p].get(n, {}).get("p50_ms", 0) for n in names]
    p95 = [paces[p].get(n, {}).get("p95_ms", 0) for n in names]
    ax.bar(xs, p50, width, label=("back to back" if p == 0 else f"{p} ms apart") + " (p50)")
    ax.scatter(xs, p95, marker="_", s=120, color="black", zorder=3,
               label="p95" if i == len(ps) - 1 else None)
ax.set_xticks([k + width * (len(ps) - 1) / 2 for k in range(len(names))])
ax.set_xticklabels(names, rotation=20)
ax.set_yscale("log")
ax.set_ylabel("ms per call (log scale)")
ax.set_title(f"Start-up, interleaved, {res['date']}")
ax.legend(fontsize=8)
fig.text(0.01, 0.01, machine, fontsize=6)
fig.tight_layout()
fig.savefig(out_png)
