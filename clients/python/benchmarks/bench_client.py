#!/usr/bin/env python3
"""Python client search throughput against a running candor-server.

    python bench_client.py --address 127.0.0.1:50051 --gallery-size 100000 --dim 512

Creates (or reuses, with --reuse) a gallery of random vectors with a fixed
seed, then sends --iterations searches of --batch probes each (256 by
default, as the C++ load generator's Search benchmark) one after another and
prints probes/s with the per-call latency percentiles. Also prints how much
of a call the client spends in Python (packing the probes, converting the
answer), so the figure can be set against the C++ client's on the same
server and gallery (--reuse --gallery NAME searches an existing gallery).
The loop is bounded by --iterations; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import candor
from candor import _arrays


def percentile_ms(samples: list, q: float) -> float:
    return float(np.percentile(np.asarray(samples), q) * 1e3)


def ensure_gallery(client: candor.Client, args: argparse.Namespace) -> candor.Gallery:
    if args.reuse:
        return client.get_gallery(args.gallery)
    try:
        client.delete_gallery(args.gallery)
    except candor.NotFound:
        pass
    client.create_gallery(args.gallery, args.dim)
    rng = np.random.default_rng(args.seed)
    # Enroll in requests of at most 3 MiB (gRPC's default limit is 4 MiB) and
    # 4096 rows (candor-server's default --max_batch).
    chunk = max(1, min(4096, (3 << 20) // (4 * args.dim)))
    for start in range(0, args.gallery_size, chunk):
        n = min(chunk, args.gallery_size - start)
        vectors = rng.standard_normal(size=(n, args.dim), dtype=np.float32)
        client.enroll(args.gallery, vectors, [f"s{start + i}" for i in range(n)],
                      request_id=f"bench-{args.seed}-{args.gallery_size}-{args.dim}-{start}")
    return client.get_gallery(args.gallery)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", default="127.0.0.1:50051")
    ap.add_argument("--gallery", default="bench-python")
    ap.add_argument("--reuse", action="store_true", help="search an existing gallery as it is")
    ap.add_argument("--gallery-size", type=int, default=100000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--threshold", type=float, default=-1.0,
                    help="-1 returns top_k candidates per probe, as a plain k-NN search")
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--omit-report", action="store_true")
    ap.add_argument("--stream", action="store_true", help="send the batches over SearchStream")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    with candor.Client(args.address, timeout=600.0) as client:
        t0 = time.perf_counter()
        g = ensure_gallery(client, args)
        setup_s = time.perf_counter() - t0
        print(f"gallery {g.name}: {g.size} x {g.dimension}, backend {g.backend} "
              f"(ready in {setup_s:.1f} s)")

        rng = np.random.default_rng(args.seed + 1)
        probes = rng.standard_normal(size=(args.batch, g.dimension), dtype=np.float32)
        opts = dict(threshold=args.threshold, top_k=args.top_k, omit_report=args.omit_report)

        for _ in range(args.warmup):
            client.search(g.name, probes, **opts)

        latencies = []
        candidates = 0
        t0 = time.perf_counter()
        if args.stream:
            last = t0
            for res in client.search_stream(g.name, (probes for _ in range(args.iterations)), **opts):
                candidates += sum(len(r) for r in res)
                now = time.perf_counter()
                latencies.append(now - last)
                last = now
        else:
            for _ in range(args.iterations):
                start = time.perf_counter()
                res = client.search(g.name, probes, **opts)
                candidates += sum(len(r) for r in res)  # includes converting the answer
                latencies.append(time.perf_counter() - start)
        wall = time.perf_counter() - t0

        # Client-side Python cost per call: packing the probes and converting
        # one answer (its candidates into arrays), without the network.
        pack_t = time.perf_counter()
        for _ in range(args.iterations):
            _arrays.to_matrix(probes)
        pack_s = (time.perf_counter() - pack_t) / args.iterations
        raw = client.search(g.name, probes, **opts).proto
        conv_t = time.perf_counter()
        for _ in range(args.iterations):
            list(candor.SearchResult(raw))
        conv_s = (time.perf_counter() - conv_t) / args.iterations

    probes_total = args.batch * args.iterations
    mode = "SearchStream" if args.stream else "Search"
    print(f"python-client {mode}: batch {args.batch}, {g.size} x {g.dimension}, top_k {args.top_k}, "
          f"{args.iterations} calls: {probes_total / wall:.1f} probes/s "
          f"(p50 {percentile_ms(latencies, 50):.2f} ms, p95 {percentile_ms(latencies, 95):.2f} ms, "
          f"p99 {percentile_ms(latencies, 99):.2f} ms per call)")
    print(f"  client-side python per call: pack {pack_s * 1e3:.2f} ms, convert answer "
          f"{conv_s * 1e3:.2f} ms ({candidates / args.iterations:.0f} candidates)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
