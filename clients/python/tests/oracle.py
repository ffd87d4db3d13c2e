"""NumPy brute force: what a cosine 1:N search must return."""

from __future__ import annotations

from typing import List, Tuple

import numpy as np


def normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def scores(gallery: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """Cosine similarity, (probes, gallery), in float64."""
    return normalize(probes) @ normalize(gallery).T


def search(
    gallery: np.ndarray,
    entry_ids: np.ndarray,
    probes: np.ndarray,
    threshold: float,
    top_k: int,
) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Per probe: (entry ids, scores) with score >= threshold, best first,
    ties by ascending entry id, at most top_k."""
    s = scores(gallery, probes)
    ids = np.asarray(entry_ids, dtype=np.uint64)
    out = []
    for row in s:
        keep = np.flatnonzero(row >= threshold)
        order = np.lexsort((ids[keep], -row[keep]))[:top_k]
        out.append((ids[keep][order], row[keep][order]))
    return out


def margin(gallery: np.ndarray, probes: np.ndarray, threshold: float, top_k: int) -> float:
    """The smallest distance of any score to the threshold or to a top_k cut:
    float32 rounding cannot change a result whose margin exceeds ~1e-5."""
    s = scores(gallery, probes)
    gaps = [np.abs(s - threshold).min()]
    srt = -np.sort(-s, axis=1)
    if srt.shape[1] > top_k:
        cut = srt[:, top_k - 1] - srt[:, top_k]
        above = srt[:, top_k - 1] >= threshold  # a cut only matters above threshold
        if above.any():
            gaps.append(cut[above].min())
    return float(min(gaps))


def pick_threshold(gallery: np.ndarray, probes: np.ndarray, low: float, high: float) -> float:
    """A threshold in [low, high] as far as possible from every score, so
    that float32 rounding on the server cannot move a score across it."""
    s = np.sort(scores(gallery, probes).ravel())
    s = s[(s >= low) & (s <= high)]
    if len(s) < 2:
        return (low + high) / 2
    gaps = np.diff(s)
    i = int(np.argmax(gaps))
    return float((s[i] + s[i + 1]) / 2)
