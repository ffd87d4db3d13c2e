#!/usr/bin/env python3
"""Enroll a gallery from a .npy file and a CSV of metadata, then search it.

    python enroll_and_search.py --address 127.0.0.1:50051 --gallery faces \
        --vectors gallery.npy --meta gallery.csv --probes probes.npy --threshold 0.6

gallery.npy: (N, d) float32 or float64 embeddings, one per row.
gallery.csv: N rows with a header naming `subject_id` and optionally `group`.
probes.npy:  (M, d) embeddings to search for.

The gallery is created when missing. The enrollment's request id is a hash of
the input files, so running the example twice enrolls the gallery once.
Prints each probe's candidates and the report of what the threshold costs.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path
from typing import List, Tuple

import numpy as np

import candor


def read_meta(path: Path, rows: int) -> Tuple[List[str], List[str]]:
    """subject ids and group labels (empty when the CSV has no group column)."""
    with open(path, newline="") as f:
        records = list(csv.DictReader(f))
    if len(records) != rows:
        sys.exit(f"{path}: {len(records)} rows for {rows} vectors")
    if records and "subject_id" not in records[0]:
        sys.exit(f"{path}: needs a subject_id column")
    subjects = [r["subject_id"] for r in records]
    groups = [r.get("group") or "" for r in records] if "group" in records[0] else []
    return subjects, groups


def file_digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:32]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", default="127.0.0.1:50051")
    ap.add_argument("--gallery", required=True)
    ap.add_argument("--vectors", type=Path, required=True)
    ap.add_argument("--meta", type=Path, required=True)
    ap.add_argument("--probes", type=Path, required=True)
    ap.add_argument("--threshold", type=float, default=None,
                    help="cosine threshold; default: the gallery's policy threshold")
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()

    vectors = np.load(args.vectors)
    probes = np.load(args.probes)
    subjects, groups = read_meta(args.meta, len(vectors))

    with candor.Client(args.address) as client:
        try:
            client.create_gallery(args.gallery, vectors.shape[1])
        except candor.AlreadyExists:
            client.get_gallery(args.gallery)  # learns its dimension
        ids = client.enroll(
            args.gallery, vectors, subjects, groups or None,
            request_id="example-" + file_digest(args.vectors, args.meta),
        )
        g = client.get_gallery(args.gallery)
        print(f"enrolled {len(ids)} entries; gallery {g.name}: {g.size} entries, "
              f"{g.subjects} subjects, dimension {g.dimension}")

        result = client.search(args.gallery, probes, threshold=args.threshold,
                               top_k=args.top_k, purpose="example")
        for probe in result:
            found = ", ".join(
                f"{c.subject_id}#{c.entry_id} ({c.score:.3f})" for c in probe.candidates
            )
            print(f"probe {probe.probe_index}: {found or 'no candidate'}")
        if result.report is not None:
            print(result.report.summary())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except candor.CandorError as err:  # the server's answer, without a traceback
        sys.exit(f"error: {err}")
