#!/usr/bin/env python3
"""Calibrate a gallery and choose the threshold for a target FPIR.

    python calibrate_threshold.py --address 127.0.0.1:50051 --gallery faces \
        --nonmated nonmated.npy --nonmated-meta nonmated.csv \
        --mated mated.npy --mated-meta mated.csv --target-fpir 0.01

nonmated.npy + .csv: probes whose subjects are NOT enrolled; CSV column `group`.
mated.npy + .csv:    probes of enrolled subjects; CSV columns `subject_id`, `group`.

Uploads the labeled set (Calibrate), then asks for the report at the target
FPIR (GetCalibration) and prints, per group, the lowest threshold that keeps
its FPIR under the target, and the single threshold that holds every group
under it. With --apply it sets the gallery's policy (max_fpir = target), so
searches that name no threshold use that one.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np

import candor


def read_columns(path: Path, rows: int) -> Dict[str, List[str]]:
    with open(path, newline="") as f:
        records = list(csv.DictReader(f))
    if len(records) != rows:
        sys.exit(f"{path}: {len(records)} rows for {rows} vectors")
    names = records[0].keys() if records else []
    return {n: [r[n] for r in records] for n in names}


def fmt(t: float | None) -> str:
    return "none reaches the target" if t is None else f"{t:.4f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", default="127.0.0.1:50051")
    ap.add_argument("--gallery", required=True)
    ap.add_argument("--nonmated", type=Path, required=True)
    ap.add_argument("--nonmated-meta", type=Path, required=True)
    ap.add_argument("--mated", type=Path)
    ap.add_argument("--mated-meta", type=Path)
    ap.add_argument("--target-fpir", type=float, default=0.01)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--apply", action="store_true", help="set the gallery's max_fpir to the target")
    args = ap.parse_args()

    nonmated = np.load(args.nonmated)
    nm = read_columns(args.nonmated_meta, len(nonmated))
    kwargs = {"nonmated": nonmated, "nonmated_groups": nm.get("group")}
    if args.mated is not None:
        if args.mated_meta is None:
            sys.exit("--mated needs --mated-meta")
        mated = np.load(args.mated)
        m = read_columns(args.mated_meta, len(mated))
        kwargs.update(mated=mated, mated_groups=m.get("group"), mated_subject_ids=m["subject_id"])

    with candor.Client(args.address) as client:
        client.get_gallery(args.gallery)  # NotFound early, and learns the dimension
        cal = client.calibrate(args.gallery, top_k=args.top_k, **kwargs)
        print(f"calibrated {cal.gallery}: {cal.overall.nonmated_searches} non-mated and "
              f"{cal.overall.mated_searches} mated searches, gallery size "
              f"{cal.calibration.gallery_size_at_calibration}")

        rep = client.report(args.gallery, target_fpir=args.target_fpir)
        print(f"target FPIR {rep.target_fpir:g}")
        for g in rep.groups:
            print(f"  group {g.group or '(none)'}: {g.nonmated_searches} non-mated searches, "
                  f"threshold {fmt(g.threshold_for_target)}")
        print(f"threshold_for_target {fmt(rep.threshold_for_target)}")

        if rep.threshold_for_target is not None:
            t = rep.threshold_for_target
            at_t = client.report(args.gallery, thresholds=[t])
            _, fpir, fnir = at_t.overall.points[0]
            print(f"at {t:.4f}: FPIR {fpir}  FNIR {fnir}")
        if args.apply:
            g = client.set_policy(args.gallery, max_fpir=args.target_fpir)
            print(f"policy of {g.name}: max_fpir {g.policy.max_fpir}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except candor.CandorError as err:  # the server's answer, without a traceback
        sys.exit(f"error: {err}")
