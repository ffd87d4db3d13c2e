#!/usr/bin/env python3
"""Peer row for bench/run.sh: the same exact search workload against Milvus Lite.

    milvus_search.py --gallery-npy g.npy --probes-npy p.npy --db DIR/milvus.db \
        --batch 256 --top-k 10 --duration 10

Starts Milvus Lite (a local Milvus server embedded by pymilvus) on a file in
--db, creates a collection with an exact FLAT index and inner-product
metric, inserts the gallery rows (L2-normalized, as candor stores them),
then searches batches of --batch probes, top --top-k, with no score cut
(threshold -1 in candor's terms), one call after another for --duration
seconds. Prints one JSON object with probes/s and the load time. Bounded by
--duration after the load; bench/run.sh also wraps it in `timeout`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def normalized(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (rows / norms).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gallery-npy", required=True)
    ap.add_argument("--probes-npy", required=True)
    ap.add_argument("--db", required=True, help="Milvus Lite database file")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--insert-chunk", type=int, default=5000)
    args = ap.parse_args()

    import pymilvus
    from pymilvus import DataType, MilvusClient

    gallery = normalized(np.load(args.gallery_npy))
    probes = normalized(np.load(args.probes_npy))
    n, dim = gallery.shape
    batches = probes.shape[0] // args.batch
    if batches < 1 or probes.shape[1] != dim:
        print("milvus_search: need at least --batch probes of the gallery's dimension",
              file=sys.stderr)
        return 1

    t0 = time.perf_counter()
    client = MilvusClient(args.db)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    index = client.prepare_index_params()
    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    client.create_collection("bench", schema=schema, index_params=index)
    for start in range(0, n, args.insert_chunk):
        stop = min(n, start + args.insert_chunk)
        client.insert("bench", [{"id": i, "vector": gallery[i]} for i in range(start, stop)])
    client.flush("bench")
    client.load_collection("bench")
    load_s = time.perf_counter() - t0

    params = {"metric_type": "IP", "params": {}}

    def search(b: int):
        rows = probes[(b % batches) * args.batch:(b % batches + 1) * args.batch]
        return client.search("bench", data=list(rows), limit=args.top_k,
                             search_params=params)

    first = search(0)  # warm-up, and a check that it answers k per probe
    hits_per_probe = sum(len(r) for r in first) / len(first)
    calls = 0
    start = time.perf_counter()
    now = start
    while True:
        search(calls)
        calls += 1
        now = time.perf_counter()
        if now - start >= args.duration:
            break
    elapsed = now - start
    client.close()
    print(json.dumps({
        "pymilvus": pymilvus.__version__,
        "gallery_rows": int(n), "dim": int(dim), "batch": args.batch, "top_k": args.top_k,
        "load_s": round(load_s, 2), "calls": calls, "elapsed_s": round(elapsed, 3),
        "hits_per_probe": hits_per_probe,
        "probes_per_s": round(calls * args.batch / elapsed, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
