"""The client against a real candor-server on loopback ($CANDOR_SERVER_BIN)."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

import candor
import oracle
from conftest import ServerProcess, skip_module_without_server, start_server

skip_module_without_server()

DIM = 32
SEED = 20261127


def make_data(n: int = 400, n_probes: int = 24, seed: int = SEED):
    """A gallery of n random unit-ish vectors (two entries per subject, two
    groups) and probes that are noisy copies of some entries."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    subjects = [f"subj-{i // 2}" for i in range(n)]
    groups = ["A" if i % 3 else "B" for i in range(n)]
    n_probes = min(n_probes, n)
    src = rng.choice(n, size=n_probes, replace=False)
    probes = (vectors[src] + 0.6 * rng.normal(size=(n_probes, DIM))).astype(np.float32)
    return vectors, subjects, groups, probes


def assert_matches_oracle(result, expected, atol: float = 1e-5) -> None:
    assert len(result) == len(expected)
    for i, (got, (ids, scores)) in enumerate(zip(result, expected)):
        assert got.probe_index == i
        assert got.entry_ids.tolist() == ids.tolist(), f"probe {i}"
        np.testing.assert_allclose(got.scores, scores, atol=atol, err_msg=f"probe {i}")


def test_gallery_lifecycle(client: candor.Client, gallery_name: str) -> None:
    g = client.create_gallery(gallery_name, DIM)
    assert (g.name, g.dimension, g.size) == (gallery_name, DIM, 0)
    assert gallery_name in [x.name for x in client.list_galleries()]
    with pytest.raises(candor.AlreadyExists):
        client.create_gallery(gallery_name, DIM)

    vectors, subjects, groups, _ = make_data(n=10)
    ids = client.enroll(gallery_name, vectors, subjects, groups)
    assert ids.dtype == np.uint64 and len(ids) == 10 and len(set(ids.tolist())) == 10
    g = client.get_gallery(gallery_name)
    assert (g.size, g.subjects) == (10, 5)
    assert g.groups == {"A": groups.count("A"), "B": groups.count("B")}
    assert g.version >= 1

    removed = client.remove(gallery_name, entry_ids=ids[:2])
    assert sorted(removed.tolist()) == sorted(ids[:2].tolist())
    removed = client.remove(gallery_name, subject_id="subj-2")
    assert sorted(removed.tolist()) == sorted(ids[4:6].tolist())
    with pytest.raises(candor.NotFound):
        client.remove(gallery_name, entry_ids=ids[:1])  # already gone
    g2 = client.get_gallery(gallery_name)
    assert (g2.size, g2.subjects) == (6, 3)
    assert g2.version > g.version

    # Removed entries are never returned again.
    res = client.search(gallery_name, vectors[:6], threshold=0.99, top_k=3)
    assert [r.entry_ids.tolist() for r in res] == [[], [], [ids[2]], [ids[3]], [], []]

    compacted = client.compact_gallery(gallery_name)
    assert compacted.erased_entries == 4
    assert client.get_gallery(gallery_name).size == 6

    client.delete_gallery(gallery_name)
    with pytest.raises(candor.NotFound):
        client.get_gallery(gallery_name)
    with pytest.raises(candor.NotFound):
        client.delete_gallery(gallery_name)
    assert gallery_name not in [x.name for x in client.list_galleries()]


def test_search_matches_numpy_brute_force(client: candor.Client, gallery_name: str) -> None:
    vectors, subjects, groups, probes = make_data()
    top_k = 5
    client.create_gallery(gallery_name, DIM)
    ids = client.enroll(gallery_name, vectors, subjects, groups)
    by_id = {int(e): (s, g) for e, s, g in zip(ids, subjects, groups)}
    # A high threshold that cuts candidates, and a low one where top_k does.
    for low, high in ((0.45, 0.55), (0.15, 0.25)):
        threshold = oracle.pick_threshold(vectors, probes, low, high)
        assert oracle.margin(vectors, probes, threshold, top_k) > 1e-4  # fixed data, no near-ties
        res = client.search(gallery_name, probes, threshold=threshold, top_k=top_k)
        expected = oracle.search(vectors, ids, probes, threshold, top_k)
        counts = [len(e[0]) for e in expected]
        if low > 0.4:
            assert sum(counts) > len(probes) and max(counts) < top_k
        else:
            assert min(counts) == top_k
        assert_matches_oracle(res, expected)
        # Each candidate's subject and group are the enrolled ones.
        for r in res:
            for c in r.candidates:
                assert (c.subject_id, c.group) == by_id[c.entry_id]
        assert res.report is not None and res.report.threshold == pytest.approx(threshold)
        assert res.report.source == "REQUEST"


def test_float64_and_fortran_order_give_the_same_answers(client: candor.Client, gallery_name: str) -> None:
    vectors, subjects, _, probes = make_data()
    t = oracle.pick_threshold(vectors, probes, 0.45, 0.55)
    client.create_gallery(gallery_name, DIM)
    ids = client.enroll(gallery_name, np.asfortranarray(vectors.astype(np.float64)), subjects)
    base = client.search(gallery_name, probes, threshold=t, top_k=5)
    for variant in (
        probes.astype(np.float64),
        np.asfortranarray(probes),
        np.asfortranarray(probes.astype(np.float64)),
    ):
        other = client.search(gallery_name, variant, threshold=t, top_k=5)
        for a, b in zip(base, other):
            assert a.entry_ids.tolist() == b.entry_ids.tolist()
            np.testing.assert_array_equal(a.scores, b.scores)
    assert_matches_oracle(base, oracle.search(vectors, ids, probes, t, 5))


def test_ties_are_ordered_by_ascending_entry_id(client: candor.Client, gallery_name: str) -> None:
    rng = np.random.default_rng(SEED + 1)
    v = rng.normal(size=(1, DIM)).astype(np.float32)
    others = rng.normal(size=(5, DIM)).astype(np.float32)
    # The same vector enrolled 6 times (also scaled: cosine ignores length).
    dupes = np.vstack([v, 2 * v, v, others, 0.5 * v, v, v]).astype(np.float32)
    client.create_gallery(gallery_name, DIM)
    ids = client.enroll(gallery_name, dupes, [f"s{i}" for i in range(len(dupes))])
    res = client.search(gallery_name, v, threshold=0.999, top_k=4)
    dup_ids = np.sort(ids[[0, 1, 2, 8, 9, 10]])
    assert res[0].entry_ids.tolist() == dup_ids[:4].tolist()
    np.testing.assert_allclose(res[0].scores, 1.0, atol=1e-5)


def test_shape_errors_are_raised_before_sending(client: candor.Client, gallery_name: str) -> None:
    client.create_gallery(gallery_name, DIM)
    with pytest.raises(ValueError, match=f"dimension is {DIM}"):
        client.search(gallery_name, np.ones((2, DIM + 1)))
    with pytest.raises(ValueError, match="2-D"):
        client.enroll(gallery_name, np.ones(DIM), ["a"])
    with pytest.raises(ValueError, match="empty"):
        client.search(gallery_name, np.ones((0, DIM)))
    assert client.get_gallery(gallery_name).size == 0


def test_server_errors_are_typed(server: ServerProcess, gallery_name: str) -> None:
    with candor.Client(server.address) as setup:
        setup.create_gallery(gallery_name, DIM)
        setup.enroll(gallery_name, np.ones((1, DIM)), ["a"])
    # A fresh client does not know the dimension, so the server judges it.
    with candor.Client(server.address) as c:
        with pytest.raises(candor.NotFound) as nf:
            c.search("no-such-gallery", np.ones((1, DIM)), threshold=0.5)
        assert nf.value.message
        with pytest.raises(candor.InvalidArgument):
            c.search(gallery_name, np.ones((1, DIM + 3)), threshold=0.5)
        with pytest.raises(candor.InvalidArgument):
            c.enroll(gallery_name, np.ones((1, DIM + 3)), ["b"])
        with pytest.raises(candor.InvalidArgument):
            c.search(gallery_name, np.ones((1, DIM)), threshold=2.0)
        with pytest.raises(candor.InvalidArgument):
            c.search(gallery_name, np.ones((1, DIM)), threshold=0.5, top_k=0)
        with pytest.raises(candor.InvalidArgument):
            c.create_gallery("bad name!", DIM)
        with pytest.raises(candor.NotFound):
            c.enroll("no-such-gallery", np.ones((1, DIM)), ["a"])
        # A rejected request changes nothing.
        assert c.get_gallery(gallery_name).size == 1


def test_same_request_id_enrolls_once(client: candor.Client, gallery_name: str) -> None:
    vectors, subjects, _, _ = make_data(n=6)
    client.create_gallery(gallery_name, DIM)
    first = client.enroll(gallery_name, vectors, subjects, request_id="batch-0001")
    again = client.enroll(gallery_name, vectors, subjects, request_id="batch-0001")
    assert again.tolist() == first.tolist()
    assert client.get_gallery(gallery_name).size == 6
    other = client.enroll(gallery_name, vectors, subjects, request_id="batch-0002")
    assert set(other.tolist()).isdisjoint(first.tolist())
    assert client.get_gallery(gallery_name).size == 12


def test_request_id_survives_a_restart(own_server: ServerProcess) -> None:
    vectors, subjects, groups, probes = make_data(n=50)
    with candor.Client(own_server.address) as c:
        c.create_gallery("durable", DIM)
        first = c.enroll("durable", vectors, subjects, groups, request_id="restart-1")
        before = c.search("durable", probes, threshold=0.3, top_k=5)
    own_server.restart()
    with candor.Client(own_server.address) as c:
        g = c.get_gallery("durable")
        assert (g.size, g.subjects) == (50, 25)
        again = c.enroll("durable", vectors, subjects, groups, request_id="restart-1")
        assert again.tolist() == first.tolist()
        assert c.get_gallery("durable").size == 50
        after = c.search("durable", probes, threshold=0.3, top_k=5)
        for a, b in zip(before, after):
            assert a.entry_ids.tolist() == b.entry_ids.tolist()
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)


def test_search_stream_answers_in_order(client: candor.Client, gallery_name: str) -> None:
    vectors, subjects, _, probes = make_data()
    t = oracle.pick_threshold(vectors, probes, 0.45, 0.55)
    client.create_gallery(gallery_name, DIM)
    ids = client.enroll(gallery_name, vectors, subjects)
    sizes = [1, 5, 2, 7, 3, 6]
    bounds = np.cumsum([0] + sizes)
    batches = [probes[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
    results = list(client.search_stream(gallery_name, iter(batches), threshold=t, top_k=5))
    assert [len(r) for r in results] == sizes
    for batch, res in zip(batches, results):
        assert_matches_oracle(res, oracle.search(vectors, ids, batch, t, 5))


def test_groups_and_refs_are_echoed(client: candor.Client, gallery_name: str) -> None:
    vectors, subjects, groups, probes = make_data(n=20, n_probes=3)
    client.create_gallery(gallery_name, DIM)
    client.enroll(gallery_name, vectors, subjects, groups)
    res = client.search(
        gallery_name, probes, threshold=0.2, groups=["A", "B", "A"], refs=["r0", "r1", "r2"],
        purpose="pytest",
    )
    assert [(r.ref, r.group) for r in res] == [("r0", "A"), ("r1", "B"), ("r2", "A")]
    assert client.search(gallery_name, probes, threshold=0.2, omit_report=True).report is None


def test_labeled_calibration_matches_numpy(client: candor.Client, gallery_name: str) -> None:
    rng = np.random.default_rng(SEED + 2)
    vectors, subjects, groups, _ = make_data(n=200)
    client.create_gallery(gallery_name, DIM)
    client.enroll(gallery_name, vectors, subjects, groups)
    nonmated = rng.normal(size=(300, DIM))
    nonmated_groups = ["A" if i % 2 else "B" for i in range(300)]
    mate_rows = rng.choice(200, size=80, replace=False)
    mated = vectors[mate_rows] + 0.8 * rng.normal(size=(80, DIM))
    mated_subjects = [subjects[i] for i in mate_rows]
    mated_groups = [groups[i] for i in mate_rows]
    top_k = 5
    try:
        rep = client.calibrate(
            gallery_name, nonmated=nonmated, nonmated_groups=nonmated_groups, mated=mated,
            mated_groups=mated_groups, mated_subject_ids=mated_subjects, top_k=top_k,
        )
    except candor.Unimplemented as err:
        pytest.skip(f"this candor-server has no Calibrate yet: {err}")
    assert rep.calibration.present and rep.calibration.source == "labeled"
    assert rep.overall.nonmated_searches == 300 and rep.overall.mated_searches == 80

    nm_top1 = oracle.scores(vectors, nonmated).max(axis=1)
    ms = oracle.scores(vectors, mated)
    # Grid points kept 1e-4 away from every score, so that float32 (server)
    # vs float64 (oracle) rounding cannot move a count.
    grid = []
    for t in (0.3, 0.4, 0.5, 0.6):
        while np.abs(nm_top1 - t).min() <= 1e-4 or np.abs(ms - t).min() <= 1e-4:
            t += 3e-4
        grid.append(round(t, 6))
    ms_sorted = -np.sort(-ms, axis=1)
    assert (ms_sorted[:, top_k - 1] - ms_sorted[:, top_k]).min() > 1e-6  # no tie at the rank cut
    rep = client.report(gallery_name, thresholds=grid, target_fpir=0.05)
    np.testing.assert_allclose(rep.overall.thresholds, grid, atol=1e-6)
    for j, t in enumerate(grid):
        # FPIR: non-mated searches whose top-1 score reaches t.
        _, fpir, _ = rep.overall.points[j]
        assert (fpir.errors, fpir.searches) == (int((nm_top1 >= t).sum()), 300), t
        # FNIR: mated searches whose mate is not within top_k at score >= t.
        misses = 0
        subj = np.array(subjects)
        for row, s in zip(ms, mated_subjects):
            order = np.argsort(-row, kind="stable")[:top_k]
            found = any(subj[i] == s and row[i] >= t for i in order)
            misses += not found
        _, _, fnir = rep.overall.points[j]
        assert (fnir.errors, fnir.searches) == (misses, 80), t
    assert {g.group for g in rep.groups} == {"A", "B"}

    # A search now carries the calibrated rates for its threshold.
    res = client.search(gallery_name, nonmated[:2], threshold=0.5)
    assert res.report.calibration.present
    assert res.report.fpir.errors == int((nm_top1 >= 0.5).sum())


def test_report_before_calibration_is_a_failed_precondition(client: candor.Client, gallery_name: str) -> None:
    client.create_gallery(gallery_name, DIM)
    with pytest.raises(candor.FailedPrecondition) as info:
        client.report(gallery_name)
    assert not isinstance(info.value, candor.PolicyViolation)


@pytest.fixture()
def rejecting_server(tmp_path) -> Iterator[ServerProcess]:
    """A server whose policy floor rejects searches below 0.5."""
    srv = start_server(tmp_path, extra_args=["--min_threshold=0.5", "--policy_action=reject"])
    try:
        yield srv
    finally:
        srv.stop()


def test_policy_rejection_is_a_policy_violation(rejecting_server: ServerProcess, gallery_name: str) -> None:
    with candor.Client(rejecting_server.address, timeout=30.0) as c:
        c.create_gallery(gallery_name, DIM)
        vectors, subjects, _, probes = make_data(n=10, n_probes=2)
        c.enroll(gallery_name, vectors, subjects)
        with pytest.raises(candor.PolicyViolation) as info:
            c.search(gallery_name, probes, threshold=0.1)
        err = info.value
        assert (err.reason, err.domain) == ("POLICY_REJECT", "candor.dev")
        assert err.method == "Search" and err.message
        # At the floor the same search passes.
        assert len(c.search(gallery_name, probes, threshold=0.5)) == 2
        # A missing calibration on the same server is no policy violation.
        with pytest.raises(candor.FailedPrecondition) as missing:
            c.report(gallery_name)
        assert not isinstance(missing.value, candor.PolicyViolation)


def test_stats_count_galleries_and_entries(client: candor.Client, gallery_name: str) -> None:
    before = client.stats()
    client.create_gallery(gallery_name, DIM)
    client.enroll(gallery_name, np.eye(3, DIM), ["a", "b", "c"])
    after = client.stats()
    assert after.galleries == before.galleries + 1
    assert after.entries == before.entries + 3
    assert after.backend
