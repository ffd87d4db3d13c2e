"""Typed views of responses, built from hand-made protos (no server)."""

from __future__ import annotations

import numpy as np
import pytest

import candor
from candor.v1 import candor_pb2 as pb


def _response() -> "pb.SearchResponse":
    r = pb.SearchResponse(gallery_version=9, backend="faiss-cpu")
    # Out of order on purpose: results are exposed in probe order.
    p1 = r.results.add(probe_index=1, ref="second", group="B")
    p0 = r.results.add(probe_index=0, ref="first", group="A")
    p0.candidates.add(entry_id=2**63 + 1, subject_id="s1", group="A", score=0.9)
    p0.candidates.add(entry_id=3, subject_id="s2", group="", score=0.5)
    del p1
    rep = r.report
    rep.threshold = 0.5
    rep.source = pb.ThresholdReport.REQUEST
    rep.fpir.CopyFrom(pb.Rate(errors=2, searches=100, rate=0.02, ci_low=0.005, ci_high=0.07))
    rep.groups.add(group="A", fpir=pb.Rate(errors=1, searches=50, rate=0.02))
    rep.fpir_disparity.CopyFrom(pb.Disparity(defined=True, ratio=2.0, max_group="A", min_group="B"))
    rep.garbe_defined = False
    rep.garbe = 0.3
    rep.calibration.present = True
    rep.calibration.stale = True
    rep.verdict.outcome = pb.PolicyVerdict.WARN
    rep.verdict.violations.append("FPIR 0.02 > max_fpir 0.01")
    return r


def test_search_result_arrays_and_records() -> None:
    res = candor.SearchResult(_response())
    assert len(res) == 2
    first, second = res
    assert (first.probe_index, first.ref, first.group) == (0, "first", "A")
    assert first.entry_ids.dtype == np.uint64 and first.entry_ids.tolist() == [2**63 + 1, 3]
    assert first.scores.dtype == np.float32
    np.testing.assert_allclose(first.scores, [0.9, 0.5], rtol=1e-6)
    assert first.subject_ids == ("s1", "s2") and first.groups == ("A", "")
    c = first.candidates[0]
    assert isinstance(c, candor.Candidate)
    assert (c.entry_id, c.subject_id, c.group) == (2**63 + 1, "s1", "A")
    assert c.score == pytest.approx(0.9, rel=1e-6)
    assert len(second) == 0 and second.entry_ids.dtype == np.uint64
    assert res[1].ref == "second"
    assert res.gallery_version == 9 and res.backend == "faiss-cpu"


def test_threshold_report_is_typed() -> None:
    rep = candor.SearchResult(_response()).report
    assert isinstance(rep, candor.ThresholdReport)
    assert rep.source == "REQUEST" and rep.threshold == 0.5
    assert (rep.fpir.errors, rep.fpir.searches) == (2, 100)
    assert rep.groups[0].group == "A" and rep.groups[0].fpir.searches == 50
    assert rep.fpir_disparity.defined and rep.fpir_disparity.ratio == 2.0
    assert rep.garbe is None  # garbe_defined was false
    assert rep.calibration.stale
    assert rep.verdict.outcome == "WARN" and rep.verdict.violations == ("FPIR 0.02 > max_fpir 0.01",)
    text = rep.summary()
    assert "threshold 0.5000 (request)" in text and "stale" in text and "max_fpir" in text


def test_omitted_report_is_none() -> None:
    r = pb.SearchResponse()
    r.results.add(probe_index=0)
    assert candor.SearchResult(r).report is None


def test_policy_round_trip_keeps_unset_fields_unset() -> None:
    p = candor.Policy(max_fpir=0.001, action="reject")
    msg = p.to_proto()
    assert msg.HasField("max_fpir") and not msg.HasField("min_threshold")
    back = candor.Policy.from_proto(msg)
    assert back == candor.Policy(max_fpir=0.001, action="REJECT")
    assert candor.Policy.from_proto(pb.Policy()) == candor.Policy()


def test_index_spec_round_trip() -> None:
    spec = candor.IndexSpec(type="ivf_flat", nlist=64, default_nprobe=8, storage="fp16")
    back = candor.IndexSpec.from_proto(spec.to_proto())
    assert back == candor.IndexSpec("IVF_FLAT", 64, 8, "FP16")
    assert candor.IndexSpec.from_proto(pb.IndexSpec()).type == "FLAT"


def test_gallery_and_calibration_report() -> None:
    g = candor.Gallery.from_proto(
        pb.Gallery(name="g", dimension=4, size=3, groups=[pb.GroupCount(group="A", entries=2)])
    )
    assert g.groups == {"A": 2} and g.dimension == 4 and g.proto.size == 3
    msg = pb.CalibrationReport(gallery="g", target_fpir=0.01, threshold_for_target=0.6)
    msg.overall.points.add(threshold=0.5, fpir=pb.Rate(rate=0.1), fnir=pb.Rate(rate=0.01))
    msg.overall.points.add(threshold=0.6, fpir=pb.Rate(rate=0.01), fnir=pb.Rate(rate=0.05))
    msg.groups.add(group="A")
    rep = candor.CalibrationReport.from_proto(msg)
    assert rep.threshold_for_target == pytest.approx(0.6)
    np.testing.assert_allclose(rep.overall.thresholds, [0.5, 0.6])
    np.testing.assert_allclose(rep.overall.fpir, [0.1, 0.01])
    assert rep.overall.threshold_for_target is None
    assert rep.groups[0].group == "A"
    assert candor.CalibrationReport.from_proto(pb.CalibrationReport()).threshold_for_target is None
