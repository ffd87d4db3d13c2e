"""Typed views of candor's responses.

Each dataclass mirrors one proto message with Python types (enums as their
names, optional fields as ``None``) and keeps the message itself in
``proto`` for anything not mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union, overload

import numpy as np

from candor._proto import pb


def _opt(msg: Any, name: str) -> Any:
    return getattr(msg, name) if msg.HasField(name) else None


# ----------------------------------------------------------------- galleries


@dataclass(frozen=True)
class Policy:
    """The operator's threshold policy; ``None`` fields do not constrain.

    ``action`` is ``"REJECT"``, ``"WARN"`` or ``None`` (inherit).
    """

    min_threshold: Optional[float] = None
    max_fpir: Optional[float] = None
    max_disparity: Optional[float] = None
    action: Optional[str] = None

    def to_proto(self) -> "pb.Policy":
        msg = pb.Policy()
        if self.min_threshold is not None:
            msg.min_threshold = float(self.min_threshold)
        if self.max_fpir is not None:
            msg.max_fpir = float(self.max_fpir)
        if self.max_disparity is not None:
            msg.max_disparity = float(self.max_disparity)
        if self.action is not None:
            msg.action = pb.Policy.Action.Value(self.action.upper())
        return msg

    @classmethod
    def from_proto(cls, msg: "pb.Policy") -> "Policy":
        action = pb.Policy.Action.Name(msg.action)
        return cls(
            min_threshold=_opt(msg, "min_threshold"),
            max_fpir=_opt(msg, "max_fpir"),
            max_disparity=_opt(msg, "max_disparity"),
            action=None if action == "ACTION_UNSPECIFIED" else action,
        )


@dataclass(frozen=True)
class IndexSpec:
    """How a gallery is indexed: ``type`` is ``"FLAT"`` or ``"IVF_FLAT"``;
    ``storage`` is ``"FP32"``, ``"FP16"`` or ``None`` (backend default)."""

    type: str = "FLAT"
    nlist: int = 0
    default_nprobe: int = 0
    storage: Optional[str] = None

    def to_proto(self) -> "pb.IndexSpec":
        return pb.IndexSpec(
            type=pb.IndexSpec.Type.Value(self.type.upper()),
            nlist=self.nlist,
            default_nprobe=self.default_nprobe,
            storage=pb.IndexSpec.Storage.Value(
                self.storage.upper() if self.storage else "STORAGE_UNSPECIFIED"
            ),
        )

    @classmethod
    def from_proto(cls, msg: "pb.IndexSpec") -> "IndexSpec":
        kind = pb.IndexSpec.Type.Name(msg.type)
        storage = pb.IndexSpec.Storage.Name(msg.storage)
        return cls(
            type="FLAT" if kind == "TYPE_UNSPECIFIED" else kind,
            nlist=msg.nlist,
            default_nprobe=msg.default_nprobe,
            storage=None if storage == "STORAGE_UNSPECIFIED" else storage,
        )


@dataclass(frozen=True)
class MemoryUsage:
    host_bytes: int
    device_bytes: int
    host_bytes_per_entry: float
    device_bytes_per_entry: float
    # Vectors read in place from memory-mapped snapshots (not in host_bytes).
    mapped_bytes: int = 0

    @classmethod
    def from_proto(cls, msg: "pb.MemoryUsage") -> "MemoryUsage":
        return cls(
            msg.host_bytes,
            msg.device_bytes,
            msg.host_bytes_per_entry,
            msg.device_bytes_per_entry,
            msg.mapped_bytes,
        )


@dataclass(frozen=True)
class Gallery:
    """A gallery as GetGallery describes it. ``groups`` maps each group label
    ("" for entries without one) to its live entries."""

    name: str
    dimension: int
    size: int
    subjects: int
    groups: Dict[str, int]
    memory: MemoryUsage
    index: IndexSpec
    backend: str
    version: int
    created_at_us: int
    policy: Policy
    calibrated: bool
    calibration_stale: bool
    trained: bool
    proto: Any = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, msg: "pb.Gallery") -> "Gallery":
        return cls(
            name=msg.name,
            dimension=msg.dimension,
            size=msg.size,
            subjects=msg.subjects,
            groups={g.group: g.entries for g in msg.groups},
            memory=MemoryUsage.from_proto(msg.memory),
            index=IndexSpec.from_proto(msg.index),
            backend=msg.backend,
            version=msg.version,
            created_at_us=msg.created_at_us,
            policy=Policy.from_proto(msg.policy),
            calibrated=msg.calibrated,
            calibration_stale=msg.calibration_stale,
            trained=msg.trained,
            proto=msg,
        )


@dataclass(frozen=True)
class CompactResult:
    bytes_before: int
    bytes_after: int
    erased_entries: int


@dataclass(frozen=True)
class Stats:
    galleries: int
    entries: int
    memory: MemoryUsage
    backend: str
    device: str
    version: str

    @classmethod
    def from_proto(cls, msg: "pb.Stats") -> "Stats":
        return cls(
            msg.galleries,
            msg.entries,
            MemoryUsage.from_proto(msg.memory),
            msg.backend,
            msg.device,
            msg.version,
        )


# ----------------------------------------------------------------- telemetry


@dataclass(frozen=True)
class Rate:
    """A measured rate with its counts and 95% Wilson interval."""

    errors: int
    searches: int
    rate: float
    ci_low: float
    ci_high: float
    estimated: bool

    @classmethod
    def from_proto(cls, msg: "pb.Rate") -> "Rate":
        return cls(msg.errors, msg.searches, msg.rate, msg.ci_low, msg.ci_high, msg.estimated)

    def __str__(self) -> str:
        est = " (estimated)" if self.estimated else ""
        return (
            f"{self.rate:.4g} [{self.ci_low:.4g}, {self.ci_high:.4g}] "
            f"({self.errors}/{self.searches}){est}"
        )


@dataclass(frozen=True)
class Disparity:
    """max/min ratio of a rate between groups; ``defined`` is False when a
    group has zero errors or fewer than two groups were measured."""

    defined: bool
    ratio: float
    max_group: str
    min_group: str
    max_rate: Rate
    min_rate: Rate

    @classmethod
    def from_proto(cls, msg: "pb.Disparity") -> "Disparity":
        return cls(
            msg.defined,
            msg.ratio,
            msg.max_group,
            msg.min_group,
            Rate.from_proto(msg.max_rate),
            Rate.from_proto(msg.min_rate),
        )


@dataclass(frozen=True)
class GroupRates:
    group: str
    fpir: Rate
    fnir: Rate
    fpir_extrapolated: Rate

    @classmethod
    def from_proto(cls, msg: "pb.GroupRates") -> "GroupRates":
        return cls(
            msg.group,
            Rate.from_proto(msg.fpir),
            Rate.from_proto(msg.fnir),
            Rate.from_proto(msg.fpir_extrapolated),
        )


@dataclass(frozen=True)
class CalibrationInfo:
    present: bool
    calibrated_at_us: int
    age_seconds: float
    gallery_size_at_calibration: int
    gallery_version_at_calibration: int
    gallery_size_now: int
    stale: bool
    source: str

    @classmethod
    def from_proto(cls, msg: "pb.CalibrationInfo") -> "CalibrationInfo":
        return cls(
            msg.present,
            msg.calibrated_at_us,
            msg.age_seconds,
            msg.gallery_size_at_calibration,
            msg.gallery_version_at_calibration,
            msg.gallery_size_now,
            msg.stale,
            msg.source,
        )


@dataclass(frozen=True)
class PolicyVerdict:
    """``outcome`` is ``"PASS"``, ``"WARN"``, ``"REJECT"`` or ``"NO_POLICY"``."""

    outcome: str
    violations: Tuple[str, ...]

    @classmethod
    def from_proto(cls, msg: "pb.PolicyVerdict") -> "PolicyVerdict":
        return cls(pb.PolicyVerdict.Outcome.Name(msg.outcome), tuple(msg.violations))


@dataclass(frozen=True)
class ThresholdReport:
    """What the threshold used by a search costs. ``source`` is
    ``"REQUEST"`` or ``"POLICY"``."""

    threshold: float
    source: str
    fpir: Rate
    fnir: Rate
    groups: Tuple[GroupRates, ...]
    fpir_disparity: Disparity
    fnir_disparity: Disparity
    garbe: Optional[float]
    calibration: CalibrationInfo
    verdict: PolicyVerdict
    proto: Any = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, msg: "pb.ThresholdReport") -> "ThresholdReport":
        return cls(
            threshold=msg.threshold,
            source=pb.ThresholdReport.Source.Name(msg.source),
            fpir=Rate.from_proto(msg.fpir),
            fnir=Rate.from_proto(msg.fnir),
            groups=tuple(GroupRates.from_proto(g) for g in msg.groups),
            fpir_disparity=Disparity.from_proto(msg.fpir_disparity),
            fnir_disparity=Disparity.from_proto(msg.fnir_disparity),
            garbe=msg.garbe if msg.garbe_defined else None,
            calibration=CalibrationInfo.from_proto(msg.calibration),
            verdict=PolicyVerdict.from_proto(msg.verdict),
            proto=msg,
        )

    def summary(self) -> str:
        """A few human-readable lines: threshold, rates, disparity, verdict."""
        lines = [
            f"threshold {self.threshold:.4f} ({self.source.lower()})",
            f"  FPIR {self.fpir}",
            f"  FNIR {self.fnir}",
        ]
        for g in self.groups:
            lines.append(f"  group {g.group or '(none)'}: FPIR {g.fpir}  FNIR {g.fnir}")
        d = self.fpir_disparity
        lines.append(
            f"  FPIR disparity {d.ratio:.3g} ({d.max_group} / {d.min_group})"
            if d.defined
            else "  FPIR disparity undefined"
        )
        if not self.calibration.present:
            lines.append("  no calibration stored")
        elif self.calibration.stale:
            lines.append("  calibration is stale")
        lines.append(f"  verdict {self.verdict.outcome}")
        lines.extend(f"    {v}" for v in self.verdict.violations)
        return "\n".join(lines)


@dataclass(frozen=True)
class GroupCalibration:
    """A group's calibration curve on the report's threshold grid, as
    arrays: ``thresholds``, ``fpir`` and ``fnir`` (rates), plus each point's
    full :class:`Rate` in ``points``."""

    group: str
    nonmated_searches: int
    mated_searches: int
    thresholds: np.ndarray
    fpir: np.ndarray
    fnir: np.ndarray
    points: Tuple[Tuple[float, Rate, Rate], ...] = field(repr=False)
    threshold_for_target: Optional[float]

    @classmethod
    def from_proto(cls, msg: "pb.GroupCalibration") -> "GroupCalibration":
        pts = tuple(
            (p.threshold, Rate.from_proto(p.fpir), Rate.from_proto(p.fnir)) for p in msg.points
        )
        return cls(
            group=msg.group,
            nonmated_searches=msg.nonmated_searches,
            mated_searches=msg.mated_searches,
            thresholds=np.array([p.threshold for p in msg.points], dtype=np.float32),
            fpir=np.array([p.fpir.rate for p in msg.points], dtype=np.float64),
            fnir=np.array([p.fnir.rate for p in msg.points], dtype=np.float64),
            points=pts,
            threshold_for_target=_opt(msg, "threshold_for_target"),
        )


@dataclass(frozen=True)
class CalibrationReport:
    """A gallery's calibration on a threshold grid (Calibrate, GetCalibration)."""

    gallery: str
    calibration: CalibrationInfo
    top_k: int
    target_fpir: float
    overall: GroupCalibration
    groups: Tuple[GroupCalibration, ...]
    threshold_for_target: Optional[float]
    fpir_disparity: Tuple[Disparity, ...] = field(repr=False)
    fnir_disparity: Tuple[Disparity, ...] = field(repr=False)
    garbe: np.ndarray = field(repr=False)
    proto: Any = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, msg: "pb.CalibrationReport") -> "CalibrationReport":
        return cls(
            gallery=msg.gallery,
            calibration=CalibrationInfo.from_proto(msg.calibration),
            top_k=msg.top_k,
            target_fpir=msg.target_fpir,
            overall=GroupCalibration.from_proto(msg.overall),
            groups=tuple(GroupCalibration.from_proto(g) for g in msg.groups),
            threshold_for_target=_opt(msg, "threshold_for_target"),
            fpir_disparity=tuple(Disparity.from_proto(d) for d in msg.fpir_disparity),
            fnir_disparity=tuple(Disparity.from_proto(d) for d in msg.fnir_disparity),
            garbe=np.array(list(msg.garbe), dtype=np.float64),
            proto=msg,
        )


# ----------------------------------------------------------------- search


@dataclass(frozen=True)
class Candidate:
    """One gallery entry returned for a probe."""

    entry_id: int
    subject_id: str
    group: str
    score: float


@dataclass(frozen=True)
class ProbeResult:
    """The candidates for one probe, best first (ties by ascending entry id),
    as parallel arrays; :attr:`candidates` gives them as records."""

    probe_index: int
    ref: str
    group: str
    entry_ids: np.ndarray  # uint64
    scores: np.ndarray  # float32
    subject_ids: Tuple[str, ...]
    groups: Tuple[str, ...]

    @classmethod
    def from_proto(cls, msg: "pb.ProbeResult") -> "ProbeResult":
        # One pass over the candidates: each message access costs more than
        # the tuple, so the fields are read together and split with zip.
        rows = [(c.entry_id, c.score, c.subject_id, c.group) for c in msg.candidates]
        entry_ids, scores, subject_ids, groups = zip(*rows) if rows else ((), (), (), ())
        return cls(
            probe_index=msg.probe_index,
            ref=msg.ref,
            group=msg.group,
            entry_ids=np.array(entry_ids, dtype=np.uint64),
            scores=np.array(scores, dtype=np.float32),
            subject_ids=tuple(subject_ids),
            groups=tuple(groups),
        )

    @property
    def candidates(self) -> List[Candidate]:
        return [
            Candidate(int(e), s, g, float(x))
            for e, s, g, x in zip(self.entry_ids, self.subject_ids, self.groups, self.scores)
        ]

    def __len__(self) -> int:
        return len(self.entry_ids)


class SearchResult(Sequence[ProbeResult]):
    """A Search answer: one :class:`ProbeResult` per probe, in probe order,
    plus the threshold report. Indexing and iterating give probe results.

    The response is converted lazily, so a caller that only needs ``proto``
    or the report pays nothing for the candidates.
    """

    def __init__(self, response: "pb.SearchResponse") -> None:
        self.proto = response

    @cached_property
    def results(self) -> List[ProbeResult]:
        out = [ProbeResult.from_proto(r) for r in self.proto.results]
        out.sort(key=lambda r: r.probe_index)
        return out

    @cached_property
    def report(self) -> Optional[ThresholdReport]:
        """The threshold report, or None when ``omit_report`` was set."""
        if not self.proto.HasField("report"):
            return None
        return ThresholdReport.from_proto(self.proto.report)

    @property
    def gallery_version(self) -> int:
        return self.proto.gallery_version

    @property
    def backend(self) -> str:
        return self.proto.backend

    @property
    def partial(self) -> bool:
        return self.proto.partial

    @property
    def missing_shards(self) -> Tuple[str, ...]:
        return tuple(self.proto.missing_shards)

    @overload
    def __getitem__(self, i: int) -> ProbeResult: ...

    @overload
    def __getitem__(self, i: slice) -> List[ProbeResult]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[ProbeResult, List[ProbeResult]]:
        return self.results[i]

    def __len__(self) -> int:
        return len(self.proto.results)

    def __iter__(self) -> Iterator[ProbeResult]:
        return iter(self.results)

    def __repr__(self) -> str:
        return (
            f"SearchResult(probes={len(self)}, candidates="
            f"{sum(len(r.candidates) for r in self.proto.results)}, "
            f"gallery_version={self.gallery_version}, backend={self.backend!r})"
        )
