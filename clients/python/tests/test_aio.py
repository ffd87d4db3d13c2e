"""candor.aio.Client: the same surface as candor.Client, against a real
candor-server ($CANDOR_SERVER_BIN), plaintext and with mutual TLS and tokens.

Each test runs its coroutine with asyncio.run, so no pytest plugin is needed.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable

import numpy as np
import pytest

import candor
import candor.aio
import oracle
from conftest import ServerProcess, start_server

# The TLS server and its certificates are test_tls.py's fixtures.
from test_tls import ADMIN_TOKEN, WRONG_TOKEN, as_identity, certs, tls_server  # noqa: F401

DIM = 24


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())


def data(n: int = 120, n_probes: int = 10, seed: int = 11):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    subjects = [f"subj-{i // 2}" for i in range(n)]
    groups = ["A" if i % 3 else "B" for i in range(n)]
    probes = (vectors[: n_probes] + 0.5 * rng.normal(size=(n_probes, DIM))).astype(np.float32)
    return vectors, subjects, groups, probes


def name() -> str:
    return "aio-" + uuid.uuid4().hex[:10]


# ------------------------------------------------- the surface, without a server


def params(f: Callable[..., Any]) -> list:
    """Names, kinds and defaults (annotations differ: Iterator vs AsyncIterator)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]


def public_methods(cls: type) -> dict:
    return {
        n: f for n, f in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")
    }


def test_same_methods_and_signatures_as_the_sync_client() -> None:
    sync, aio = public_methods(candor.Client), public_methods(candor.aio.Client)
    assert sorted(sync) == sorted(aio)
    for n, f in sync.items():
        assert params(f) == params(aio[n]), n
        if n == "search_stream":
            assert inspect.isasyncgenfunction(aio[n])
        else:
            assert inspect.iscoroutinefunction(aio[n]), n
    assert params(candor.Client.__init__) == params(candor.aio.Client.__init__)


def test_same_checks_before_connecting() -> None:
    with pytest.raises(ValueError, match="only over TLS"):
        candor.aio.Client("127.0.0.1:1", token="t")
    with pytest.raises(ValueError, match="bearer token may not"):
        candor.aio.Client("127.0.0.1:1", tls=True, token="a b")

    async def go() -> None:
        async with candor.aio.Client("127.0.0.1:1") as c:
            with pytest.raises(ValueError, match="exactly one"):
                await c.remove("g")
            with pytest.raises(ValueError):
                await c.search("g", np.zeros((2, 3, 4)))

    run(go)


def test_unreachable_server_is_unavailable() -> None:
    async def go() -> None:
        retry = candor.RetryPolicy(max_attempts=1)
        async with candor.aio.Client("127.0.0.1:1", timeout=5.0, retry=retry) as c:
            with pytest.raises(candor.Unavailable) as info:
                await c.list_galleries()
            assert info.value.method == "ListGalleries"

    run(go)


# ------------------------------------------------- a real candor-server


def test_lifecycle_search_and_errors(server: ServerProcess) -> None:
    vectors, subjects, groups, probes = data()
    g = name()

    async def go() -> None:
        async with candor.aio.Client(server.address) as c:
            await c.wait_ready()
            created = await c.create_gallery(g, DIM)
            assert (created.name, created.dimension, created.size) == (g, DIM, 0)
            ids = await c.enroll(g, vectors, subjects, groups)
            assert ids.dtype == np.uint64 and len(np.unique(ids)) == len(vectors)
            assert (await c.get_gallery(g)).size == len(vectors)
            assert g in [x.name for x in await c.list_galleries()]

            res = await c.search(g, probes, threshold=0.3, top_k=4, refs=[f"r{i}" for i in range(len(probes))])
            expected = oracle.search(vectors, ids, probes, 0.3, 4)
            assert [r.entry_ids.tolist() for r in res] == [e[0].tolist() for e in expected]
            assert res.report is not None and res.report.source == "REQUEST"

            # The dimension is known once seen: a wrong width never leaves.
            with pytest.raises(ValueError, match=str(DIM)):
                await c.search(g, np.ones((1, DIM + 1)))
            with pytest.raises(candor.NotFound) as info:
                await c.get_gallery(g + "-none")
            assert info.value.method == "GetGallery"
            with pytest.raises(candor.InvalidArgument):
                await c.search(g, probes, threshold=2.0)

            # The same request id applies once.
            again = await c.enroll(g, vectors[:2], ["x", "y"], request_id="aio-once-" + g)
            twice = await c.enroll(g, vectors[:2], ["x", "y"], request_id="aio-once-" + g)
            assert again.tolist() == twice.tolist()

            removed = await c.remove(g, subject_id="subj-0")
            assert sorted(removed.tolist()) == sorted(ids[:2].tolist())
            assert (await c.compact_gallery(g)).erased_entries >= 2
            stats = await c.stats()
            assert stats.galleries >= 1 and stats.backend
            await c.delete_gallery(g)
            with pytest.raises(candor.NotFound):
                await c.get_gallery(g)

    run(go)


def test_answers_match_the_sync_client_and_run_concurrently(server: ServerProcess) -> None:
    vectors, subjects, groups, probes = data(seed=12)
    g = name()
    with candor.Client(server.address) as sync:
        sync.create_gallery(g, DIM)
        sync.enroll(g, vectors, subjects, groups)
        want = [sync.search(g, probes[i : i + 1], threshold=0.2, top_k=3) for i in range(len(probes))]

    async def go() -> list:
        async with candor.aio.Client(server.address) as c:
            return await asyncio.gather(
                *(c.search(g, probes[i : i + 1], threshold=0.2, top_k=3) for i in range(len(probes)))
            )

    got = run(go)
    for w, r in zip(want, got):
        assert r[0].entry_ids.tolist() == w[0].entry_ids.tolist()
        np.testing.assert_allclose(r[0].scores, w[0].scores, atol=1e-6)


def test_search_stream_in_order_and_stops_at_a_bad_batch(server: ServerProcess) -> None:
    vectors, subjects, _, _ = data(seed=13)
    g = name()

    async def batches():
        for i in range(4):
            yield vectors[i * 3 : i * 3 + 3]
            await asyncio.sleep(0)

    async def go() -> None:
        async with candor.aio.Client(server.address) as c:
            await c.create_gallery(g, DIM)
            ids = await c.enroll(g, vectors, subjects)
            firsts = []
            async for res in c.search_stream(g, batches(), threshold=0.99, top_k=1):
                firsts.extend(int(r.entry_ids[0]) for r in res)
            assert firsts == ids[:12].tolist()  # each vector finds itself

            got = []
            with pytest.raises(ValueError):
                async for res in c.search_stream(g, [vectors[:2], np.ones((1, DIM + 3))], threshold=0.5, top_k=1):
                    got.append(res)
            assert len(got) == 1

    run(go)


def test_calibration_report_and_policy(server: ServerProcess) -> None:
    vectors, subjects, groups, _ = data(n=200, seed=14)
    g = name()

    async def go() -> None:
        async with candor.aio.Client(server.address) as c:
            await c.create_gallery(g, DIM)
            await c.enroll(g, vectors, subjects, groups)
            with pytest.raises(candor.FailedPrecondition) as missing:
                await c.report(g)
            assert not isinstance(missing.value, candor.PolicyViolation)
            cal = await c.calibrate(g, self_audit=80, seed=3)
            assert cal.gallery == g
            rep = await c.report(g, thresholds=[0.2, 0.5], target_fpir=0.01)
            np.testing.assert_allclose(rep.overall.thresholds, [0.2, 0.5], atol=1e-6)
            updated = await c.set_policy(g, min_threshold=0.6, action="REJECT")
            assert updated.policy is not None and updated.policy.min_threshold == pytest.approx(0.6)
            with pytest.raises(candor.PolicyViolation) as info:
                await c.search(g, vectors[:1], threshold=0.1)
            assert (info.value.reason, info.value.domain) == ("POLICY_REJECT", "candor.dev")
            assert len(await c.search(g, vectors[:1], threshold=0.6)) == 1

    run(go)


# ------------------------------------------------- TLS and tokens


def test_mutual_tls_token_and_refusals(tls_server: ServerProcess, certs: Path) -> None:  # noqa: F811
    g = name()

    async def go() -> None:
        async with candor.aio.Client(tls_server.address, tls=as_identity(certs, "admin")) as c:
            await c.create_gallery(g, 8)
            ids = await c.enroll(g, np.eye(8), [f"s{i}" for i in range(8)])
            res = await c.search(g, np.eye(8)[:2], threshold=0.9, top_k=1, purpose="aio tls test")
            assert [r.entry_ids.tolist() for r in res] == [[ids[0]], [ids[1]]]
        ca_only = candor.TLS(ca=certs / "ca.pem")
        async with candor.aio.Client(tls_server.address, tls=ca_only, token=ADMIN_TOKEN) as c:
            assert (await c.get_gallery(g)).size == 8
        async with candor.aio.Client(tls_server.address, tls=ca_only, token=WRONG_TOKEN) as c:
            with pytest.raises(candor.Unauthenticated):
                await c.list_galleries()
        async with candor.aio.Client(tls_server.address, tls=ca_only) as c:
            with pytest.raises(candor.Unauthenticated):
                await c.list_galleries()
        async with candor.aio.Client(tls_server.address, tls=as_identity(certs, "searcher")) as c:
            assert (await c.get_gallery(g)).dimension == 8
            with pytest.raises(candor.PermissionDenied) as info:
                await c.delete_gallery(g)
            assert info.value.method == "DeleteGallery"

    run(go)
