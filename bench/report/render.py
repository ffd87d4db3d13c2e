#!/usr/bin/env python3
"""Writes bench/RESULTS.md (to stdout) from the results directory of bench/run.sh.

    render.py RESULTS_DIR > RESULTS.md

Reads notes.tsv (step, key, value: machine facts, load averages, timings)
and each step's output (candor-bench and faiss-baseline JSON, the Python
client's text, Milvus JSON, IVF JSON lines). A step with no figure is
written as "not measured" with the first lines of its error output.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

R = Path(sys.argv[1])
notes: dict = defaultdict(dict)
if (R / "notes.tsv").exists():
    for line in (R / "notes.tsv").read_text().splitlines():
        step, key, value = (line.split("\t", 2) + ["", ""])[:3]
        notes[step][key] = value


def load(step: str):
    path = R / f"{step}.json"
    try:
        data = json.loads(path.read_text())
    except Exception:
        return None
    if "probes_per_s" not in data or (data.get("ok", 1) == 0):
        return None
    return data


def why(step: str) -> str:
    for name in (f"{step}.err", f"{step}.txt"):
        path = R / name
        if path.exists():
            text = " ".join(l.strip() for l in path.read_text().splitlines()
                            if l.strip() and not l.startswith("["))[:400]
            if text:
                return text
    return "the step did not run (see the log of bench/run.sh)"


def la(step: str) -> str:
    return notes[step].get("load", "?")


def rate(x: float) -> str:
    return f"{x:,.1f}"


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def load_paired(step: str):
    try:
        data = json.loads((R / f"{step}.json").read_text())
    except Exception:
        return None
    return data if data.get("mode") == "paired" and data.get("grpc") else None


def median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def paired_summary(p) -> str:
    return "; ".join(
        f"{c} caller{'s' if c != '1' else ''}: median **{g['median_ratio']:.3f}**, pooled {g['pooled_ratio']:.3f}, "
        f"rounds {min(g['ratios']):.2f} to {max(g['ratios']):.2f}"
        for c, g in sorted(p["grpc"].items(), key=lambda kv: int(kv[0])))


run = notes["run"]
out = []
w = out.append
w("# candor benchmark results")
w("")
w("Regenerate with `bench/run.sh [--quick] [BUILD_DIR]`; this file is its output, "
  "do not edit by hand. Every ratio divides two figures measured in the same run, "
  "minutes apart, on the same machine; absolute figures on this shared machine move "
  "with the load average, which is given for each step (1, 5 and 15 minute averages "
  "at the step's start).")
w("")
w(f"- Date (UTC): {run.get('date', '?')}; commit `{run.get('commit', '?')}`"
  + (f" with {run.get('dirty')} uncommitted change(s) under server/, clients/, bench/load/"
     if run.get("dirty", "0") not in ("0", "") else "")
  + f"; build type {run.get('build_type') or '?'}")
w(f"- Machine: {run.get('nproc', '?')} cores ({run.get('cpu', '?')}), "
  f"{run.get('mem_gib', '?')} GiB memory, OPENBLAS_CORETYPE={run.get('openblas_coretype', '?')}; "
  f"shared with other engineers' builds")
w(f"- Load average at start {run.get('load_start', '?')}, at end {run.get('load_end', '?')}")
w(f"- Mode: {'--quick (smoke sizes, smaller than the design targets name)' if run.get('quick') == '1' else 'full'}; "
  f"sizes {run.get('sizes', '?')}")
w("- Server: `candor-server --gemm_threads=2 --metrics_listen=` (2 GEMM threads, OpenMP 1), "
  "on 127.0.0.1; data from `candor synth --per-subject 1 --seed 7` (L2-normalized rows); "
  "probes: its mated probes; every search threshold -1, top_k 10, report included; "
  "candor-bench closed loop for a fixed duration, after as many untimed warm-up calls as callers "
  "(row 1's faiss-baseline makes one untimed call per side and callers count)")
w("")

# (1) ------------------------------------------------------------------
w("## 1. End-to-end gRPC Search vs in-process FAISS (target >= 0.95)")
w("")
e2e = load_paired("e2e")
if e2e:
    w(f"Gallery {e2e['gallery_rows']:,} x {e2e['dim']}, batch {e2e['batch']}, k {e2e['top_k']}. "
      "One process (`faiss-baseline --server`, bench/report/faiss_baseline.cc) alternates "
      f"{e2e['rounds']} rounds of {e2e['window_s']:g} s windows: `faiss::IndexFlatIP::search` called in a "
      "loop in-process (OpenBLAS 2 threads, OpenMP 1, as the server), then gRPC Search of the same "
      "batches with 1 caller (each request waits for the previous answer: latency bound, the "
      "client's work adds to every call), then with 2 callers (the server kept busy: its "
      f"throughput), idling {e2e['pause_s']:g} s between windows. Each ratio divides a gRPC figure by the "
      "in-process figure of its own round, seconds earlier; the pooled ratio divides all gRPC "
      "probes per second by all in-process ones. Client and server share the machine's 2 cores.")
    w("")
    w(f"**Ratio (target >= 0.95)**: {paired_summary(e2e)}. Load average at the start: {la('e2e')}.")
    w("")
    callers = sorted(e2e["grpc"], key=int)
    w("| round | FAISS probes/s | " + " | ".join(
        f"candor {c} caller{'s' if c != '1' else ''} | ratio" for c in callers) + " |")
    w("| --- | ---: |" + " ---: | ---: |" * len(callers))
    for i, f in enumerate(e2e["faiss_probes_per_s"]):
        cells = " | ".join(f"{rate(e2e['grpc'][c]['probes_per_s'][i])} | {e2e['grpc'][c]['ratios'][i]:.2f}"
                           for c in callers)
        w(f"| {i + 1} | {rate(f)} | {cells} |")
    fs = e2e["faiss_probes_per_s"]
    w("")
    w(f"In-process FAISS alone ranged from {rate(min(fs))} to {rate(max(fs))} probes/s across the "
      f"rounds (median {rate(median(fs))}): the machine's noise, which the pairing divides out.")
    tuned = [r["probes_per_s"] for r in (load(f"e2e_tuned_{i}") for i in (1, 2, 3)) if r]
    default = [r["probes_per_s"] for r in (load(f"e2e_default_{i}") for i in (1, 2, 3)) if r]
    if tuned and default:
        w("")
        w(f"The baseline is FAISS with the server's threading (OpenMP 1 thread). With OpenMP left at "
          f"its default, one thread per core, as a program that just calls FAISS runs it, the same "
          f"loop did {', '.join(rate(x) for x in default)} probes/s, alternating with "
          f"{', '.join(rate(x) for x in tuned)} with the server's setting: the default-threaded call "
          f"reaches **{median(default) / median(tuned):.2f}** of the baseline (medians). "
          f"Load average at the first: {la('e2e_tuned_1')}.")
    late = load_paired("e2e_late")
    if late:
        w("")
        w(f"The same pairing minutes later, after rows 3 to 6, {late['rounds']} rounds: "
          f"{paired_summary(late)}. Load average at its start: {la('e2e_late')}.")
else:
    w(f"Not measured: {why('e2e')}")
w("")

# (2) ------------------------------------------------------------------
w("## 2. Dynamic batching: 64 callers x 1 probe (target >= 5x)")
w("")
on, off = load("batch_on"), load("batch_off")
w("Same gallery as row 1; candor-bench closed loop, concurrency 64, batch 1; the server "
  "restarted with `--batching=off` for the second line (other batching flags at their defaults).")
w("")
w("| server | probes/s | p50 ms | p99 ms | load avg |")
w("| --- | ---: | ---: | ---: | --- |")
for name, r, step in (("--batching=on", on, "batch_on"), ("--batching=off", off, "batch_off")):
    if r:
        lat = r["latency_us"]
        w(f"| {name} | {rate(r['probes_per_s'])} | {ms(lat['p50'])} | {ms(lat['p99'])} | {la(step)} |")
    else:
        w(f"| {name} | not measured: {why(step)} | | | |")
if on and off and off["probes_per_s"] > 0:
    w("")
    w(f"Batching on / off: **{on['probes_per_s'] / off['probes_per_s']:.1f}x**.")
w("")

# (3) ------------------------------------------------------------------
w("## 3. IVF vs flat: probes/s and recall@10")
w("")
rows = []
if (R / "ivf.jsonl").exists():
    rows = [json.loads(l) for l in (R / "ivf.jsonl").read_text().splitlines() if l.strip()]
if rows:
    w(f"Same rows and probes as row 1 in a second gallery `--index ivf --nlist "
      f"{notes['ivf'].get('nlist', '?')}`, "
      f"trained with `candor gallery train` ({notes['ivf'].get('train_seconds', '?')} s). "
      "Searched through the Python client (both lines alike, one call at a time, batch 256); "
      "recall@10 against the flat gallery's top 10 for the same probes. "
      f"Load avg {la('ivf')}. The synthetic rows are spread almost evenly over the sphere, "
      "the hardest case for an inverted file; recall on real embeddings, which cluster, will differ.")
    w("")
    w("| index | nprobe | probes/s | vs flat | recall@10 |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        w(f"| {r['index']} | {r['nprobe'] if r['nprobe'] is not None else '-'} | {rate(r['probes_per_s'])} | "
          f"{r.get('speedup_vs_flat', 1.0):.2f}x | {r['recall_at_k']:.3f} |")
else:
    w(f"Not measured: {why('ivf')}")
w("")

# (4) ------------------------------------------------------------------
w("## 4. Scaling with gallery size (flat, batch 256, 1 caller)")
w("")
sizes = run.get("scale_sizes", "").split()
if sizes:
    w("Each gallery synthesized at the dimension below, enrolled through `candor enroll`, "
      "searched, then deleted.")
    w("")
    w("| entries | dim | probes/s | p50 ms/call | enroll s | load avg |")
    w("| ---: | ---: | ---: | ---: | ---: | --- |")
    for n in sizes:
        r = load(f"scale_{n}")
        enr = notes[f"enroll-s{n}"].get("seconds", "?")
        if r:
            w(f"| {int(n):,} | {r['dim']} | {rate(r['probes_per_s'])} | {ms(r['latency_us']['p50'])} | "
              f"{enr} | {la('scale_' + n)} |")
        else:
            w(f"| {int(n):,} | | not measured: {why('scale_' + n)} | | {enr} | |")
else:
    w("Not measured: the scaling steps did not run.")
w("")

# (5) ------------------------------------------------------------------
w("## 5. Peer: Milvus Lite, exact FLAT index")
w("")
mv, mc = load("milvus"), load("milvus_candor")
if mv:
    w(f"{notes['milvus'].get('version', '')}: a local Milvus Lite server (bench/milvus/milvus_search.py), "
      f"collection with a FLAT index, metric IP, the same {mv['gallery_rows']:,} x {mv['dim']} rows "
      f"(inserted and loaded in {mv['load_s']} s), the same probes, batch {mv['batch']}, limit "
      f"{mv['top_k']}, no score cut, one call at a time; candor measured right after on the same data.")
    w("")
    w("| system | probes/s | load avg |")
    w("| --- | ---: | --- |")
    w(f"| Milvus Lite FLAT | {rate(mv['probes_per_s'])} | {la('milvus')} |")
    if mc:
        w(f"| candor gRPC, 1 caller | {rate(mc['probes_per_s'])} | {la('milvus_candor')} |")
        w("")
        w(f"candor / Milvus Lite: **{mc['probes_per_s'] / mv['probes_per_s']:.2f}x**.")
    else:
        w(f"| candor | not measured: {why('milvus_candor')} | |")
else:
    w(f"Not measured: {why('milvus')}")
w("")

# (6) ------------------------------------------------------------------
w("## 6. Python client vs C++ client (candor-bench)")
w("")
cpp = load("py_cpp")
text = (R / "py_python.txt").read_text() if (R / "py_python.txt").exists() else ""
m = re.search(r"calls: ([0-9.]+) probes/s \(p50 ([0-9.]+) ms, p95 ([0-9.]+) ms, p99 ([0-9.]+) ms", text)
side = re.search(r"pack ([0-9.]+) ms, convert answer ([0-9.]+) ms", text)
if m and cpp:
    py = float(m.group(1))
    w("Same server and gallery as row 1, batch 256, top_k 10, threshold -1, one call at a time: "
      "`clients/python/benchmarks/bench_client.py --reuse --gallery flat` (its own random "
      "probes, seed 42) right after `candor-bench --concurrency=1`.")
    w("")
    w("| client | probes/s | p50 ms | p99 ms | load avg |")
    w("| --- | ---: | ---: | ---: | --- |")
    lat = cpp["latency_us"]
    w(f"| C++ (candor-bench) | {rate(cpp['probes_per_s'])} | {ms(lat['p50'])} | {ms(lat['p99'])} | {la('py_cpp')} |")
    w(f"| Python (candor package) | {rate(py)} | {m.group(2)} | {m.group(4)} | {la('py_python')} |")
    w("")
    w(f"Python / C++: **{py / cpp['probes_per_s']:.2f}**"
      + (f"; Python-side cost per call: packing the probes {side.group(1)} ms, converting "
         f"the answer {side.group(2)} ms." if side else "."))
else:
    w(f"Not measured: {why('py_python') if not m else why('py_cpp')}")
w("")

# enrollment, for the record
enr = {k: v["seconds"] for k, v in notes.items() if k.startswith("enroll-") and "seconds" in v}
if enr:
    w("## Enrollment times (through `candor enroll`, 4096 rows a request)")
    w("")
    w(", ".join(f"{k[len('enroll-'):]}: {v} s" for k, v in sorted(enr.items())))
    w("")
# (7) ------------------------------------------------------------------
# bench/cpu_limit.sh runs on its own (about 8 minutes with --big): its
# report is quoted here as it stands, with its own date, commit and load.
w("## 7. The CPU path at the machine's limit; bf16 vs fp32; scaling to 10M")
w("")
limit = Path(__file__).resolve().parent.parent / "RESULTS-cpu-limit.md"
text = limit.read_text() if limit.exists() else ""
keep = [l for l in text.splitlines()
        if l.startswith(("date:", "cpu:", "load average before:"))][:3]
start = text.find("## ratios")
if keep and start >= 0:
    w("Quoted from `bench/RESULTS-cpu-limit.md`, the output of "
      "`bench/cpu_limit.sh --big --write` (its own run, not this one's). Targets: "
      "cpu-flat in process >= 0.97x the best fp32 GEMM of the same score matrix, "
      "end to end (gRPC, 2 callers) >= 0.9x; bf16 >= 1.6x fp32 with 0 mismatches. "
      "Batch sizes and kernel paths measured by hand: `bench/RESULTS-bf16.md`.")
    w("")
    w("```")
    out.extend(keep)
    w("")
    out.extend(text[start:].rstrip().rstrip("`").rstrip().splitlines())
    w("```")
else:
    w("Not measured: run `bench/cpu_limit.sh --big --write` (bench/RESULTS-cpu-limit.md is missing).")
w("")
print("\n".join(out))
