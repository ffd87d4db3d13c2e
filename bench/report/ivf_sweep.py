#!/usr/bin/env python3
"""IVF vs flat for bench/run.sh: probes/s and recall@10 at several nprobe.

    ivf_sweep.py --address 127.0.0.1:PORT --flat FLAT --ivf IVF \
        --probes-npy p.npy --batch 256 --calls 4 --nprobe 1,8,32

Both galleries hold the same rows; their subject ids are unique per entry
(bench/run.sh synthesizes one sample per subject), so a candidate is named by
its subject id in both. Each configuration (the flat gallery, then the IVF
gallery at each nprobe) gets one warm-up call and then --calls searches of
--batch probes (threshold -1, top_k --top-k) through the Python client, one
after another; recall@k is |IVF top-k ∩ flat top-k| / k per probe, averaged,
with the flat gallery's answers to the same probes as the truth. Prints one
JSON object per configuration. Bounded by --calls.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import candor


def run(client, gallery, probes, args, nprobe):
    batches = probes.shape[0] // args.batch
    opts = dict(threshold=-1.0, top_k=args.top_k, nprobe=nprobe)
    client.search(gallery, probes[:args.batch], **opts)  # warm-up
    answers = []
    t0 = time.perf_counter()
    for c in range(args.calls):
        b = c % batches
        res = client.search(gallery, probes[b * args.batch:(b + 1) * args.batch], **opts)
        answers.extend(r.subject_ids for r in res)
    elapsed = time.perf_counter() - t0
    return answers, args.calls * args.batch / elapsed, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", required=True)
    ap.add_argument("--flat", required=True)
    ap.add_argument("--ivf", required=True)
    ap.add_argument("--probes-npy", required=True)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--calls", type=int, default=4)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--nprobe", default="1,8,32")
    args = ap.parse_args()

    probes = np.load(args.probes_npy).astype(np.float32)
    if probes.shape[0] < args.batch:
        print("ivf_sweep: fewer probes than --batch", file=sys.stderr)
        return 1
    with candor.Client(args.address, timeout=600.0) as client:
        truth, flat_rate, flat_s = run(client, args.flat, probes, args, 0)
        print(json.dumps({"index": "flat", "nprobe": None, "probes_per_s": round(flat_rate, 2),
                          "elapsed_s": round(flat_s, 3), "recall_at_k": 1.0}), flush=True)
        for nprobe in (int(x) for x in args.nprobe.split(",")):
            got, rate, secs = run(client, args.ivf, probes, args, nprobe)
            recall = np.mean([len(set(g) & set(t)) / max(1, len(t)) for g, t in zip(got, truth)])
            print(json.dumps({"index": "ivf", "nprobe": nprobe, "probes_per_s": round(rate, 2),
                              "elapsed_s": round(secs, 3), "recall_at_k": round(float(recall), 4),
                              "speedup_vs_flat": round(rate / flat_rate, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
