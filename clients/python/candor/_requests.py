"""Request building shared by candor.Client and candor.aio.Client.

Each function checks what the client can check (shapes, label counts,
argument combinations) and raises ValueError before anything is sent, then
returns the request message. ``dim`` is the gallery's dimension when the
client has seen the gallery, else None.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from candor import _arrays
from candor._proto import pb
from candor.types import IndexSpec, Policy

ArrayLike = Any  # anything np.asarray turns into a 2-D real array


def create_gallery(
    name: str, dimension: int, index: Union[None, str, IndexSpec], policy: Optional[Policy]
) -> "pb.CreateGalleryRequest":
    if isinstance(index, str):
        index = IndexSpec(type=index)
    req = pb.CreateGalleryRequest(name=name, dimension=int(dimension))
    if index is not None:
        req.index.CopyFrom(index.to_proto())
    if policy is not None:
        req.policy.CopyFrom(policy.to_proto())
    return req


def enroll(
    gallery: str,
    vectors: ArrayLike,
    subject_ids: Sequence[str],
    groups: Optional[Sequence[str]],
    request_id: Optional[str],
    dim: Optional[int],
) -> "pb.EnrollRequest":
    if request_id is None:
        request_id = uuid.uuid4().hex
    elif not 1 <= len(request_id.encode("utf-8")) <= 128:
        # An empty id would turn idempotency (and so safe retries) off.
        raise ValueError("enroll: request_id must be 1..128 bytes")
    matrix = _arrays.to_matrix(vectors, name="vectors", dimension=dim)
    return pb.EnrollRequest(
        gallery=gallery,
        vectors=matrix,
        subject_ids=_arrays.check_labels(subject_ids, matrix.rows, name="subject_ids", required=True),
        groups=_arrays.check_labels(groups, matrix.rows, name="groups"),
        request_id=request_id,
    )


def remove(
    gallery: str, entry_ids: Optional[Iterable[int]], subject_id: Optional[str]
) -> "pb.RemoveRequest":
    if (entry_ids is None) == (subject_id is None):
        raise ValueError("remove: give exactly one of entry_ids and subject_id")
    req = pb.RemoveRequest(gallery=gallery)
    if entry_ids is not None:
        ids = np.asarray(list(entry_ids) if not isinstance(entry_ids, np.ndarray) else entry_ids)
        if ids.size == 0:
            raise ValueError("remove: entry_ids is empty")
        if ids.dtype.kind not in "iu" or (ids.dtype.kind == "i" and (ids < 0).any()):
            raise ValueError("remove: entry_ids must be non-negative integers")
        req.entry_ids.ids.extend(ids.astype(np.uint64).ravel().tolist())
    else:
        req.subject_id = str(subject_id)
    return req


def search(
    gallery: str,
    probes: ArrayLike,
    threshold: Optional[float],
    top_k: int,
    groups: Optional[Sequence[str]],
    refs: Optional[Sequence[str]],
    purpose: Optional[str],
    omit_report: bool,
    nprobe: int,
    dim: Optional[int],
) -> "pb.SearchRequest":
    matrix = _arrays.to_matrix(probes, name="probes", dimension=dim)
    req = pb.SearchRequest(
        gallery=gallery,
        probes=matrix,
        top_k=int(top_k),
        purpose=purpose or "",
        omit_report=bool(omit_report),
        nprobe=int(nprobe),
    )
    if threshold is not None:
        req.threshold = float(threshold)
    g = _arrays.check_labels(groups, matrix.rows, name="groups")
    r = _arrays.check_labels(refs, matrix.rows, name="refs")
    if g or r:
        req.probe_info.extend(
            pb.ProbeInfo(group=g[i] if g else "", ref=r[i] if r else "") for i in range(matrix.rows)
        )
    return req


def calibrate(
    gallery: str,
    nonmated: Optional[ArrayLike],
    nonmated_groups: Optional[Sequence[str]],
    mated: Optional[ArrayLike],
    mated_groups: Optional[Sequence[str]],
    mated_subject_ids: Optional[Sequence[str]],
    self_audit: Optional[int],
    seed: int,
    top_k: int,
    dim: Optional[int],
) -> "pb.CalibrateRequest":
    labeled = nonmated is not None or mated is not None
    if labeled == (self_audit is not None):
        raise ValueError("calibrate: give a labeled set (nonmated/mated) or self_audit, not both")
    req = pb.CalibrateRequest(gallery=gallery, top_k=int(top_k))
    if self_audit is not None:
        if int(self_audit) <= 0:
            raise ValueError("calibrate: self_audit is a sample size, > 0")
        req.self_audit.sample_size = int(self_audit)
        req.self_audit.seed = int(seed)
        return req
    ls = req.labeled
    if nonmated is not None:
        m = _arrays.to_matrix(nonmated, name="nonmated", dimension=dim)
        ls.nonmated.CopyFrom(m)
        ls.nonmated_groups.extend(_arrays.check_labels(nonmated_groups, m.rows, name="nonmated_groups"))
    elif nonmated_groups is not None:
        raise ValueError("calibrate: nonmated_groups without nonmated")
    if mated is not None:
        m = _arrays.to_matrix(mated, name="mated", dimension=dim)
        ls.mated.CopyFrom(m)
        ls.mated_groups.extend(_arrays.check_labels(mated_groups, m.rows, name="mated_groups"))
        ls.mated_subject_ids.extend(
            _arrays.check_labels(mated_subject_ids, m.rows, name="mated_subject_ids", required=True)
        )
    elif mated_groups is not None or mated_subject_ids is not None:
        raise ValueError("calibrate: mated_groups / mated_subject_ids without mated")
    return req


def report(
    gallery: str, thresholds: Optional[Iterable[float]], target_fpir: Optional[float]
) -> "pb.GetCalibrationRequest":
    req = pb.GetCalibrationRequest(gallery=gallery, target_fpir=float(target_fpir or 0.0))
    if thresholds is not None:
        values = list(thresholds) if not isinstance(thresholds, np.ndarray) else thresholds
        grid = np.asarray(values, dtype=np.float64).ravel()
        if ((grid < -1) | (grid > 1)).any() or not np.isfinite(grid).all():
            raise ValueError("report: thresholds must lie in [-1, 1]")
        req.thresholds.extend(grid.tolist())
    return req


def set_policy(
    gallery: str,
    policy: Optional[Policy],
    min_threshold: Optional[float],
    max_fpir: Optional[float],
    max_disparity: Optional[float],
    action: Optional[str],
    clear: bool,
) -> "pb.SetPolicyRequest":
    fields = (min_threshold, max_fpir, max_disparity, action)
    if policy is not None and any(f is not None for f in fields):
        raise ValueError("set_policy: give a Policy or keywords, not both")
    if clear and (policy is not None or any(f is not None for f in fields)):
        raise ValueError("set_policy: clear=True takes no policy")
    if policy is None:
        policy = Policy(min_threshold, max_fpir, max_disparity, action)
    req = pb.SetPolicyRequest(gallery=gallery, clear=bool(clear))
    if not clear:
        req.policy.CopyFrom(policy.to_proto())
    return req
