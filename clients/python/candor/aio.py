"""candor.aio.Client: the asyncio client, on grpc.aio.

The same methods, arguments, results and errors as :class:`candor.Client`,
each a coroutine (``search_stream`` an async iterator)::

    import asyncio, numpy as np, candor.aio

    async def main():
        async with candor.aio.Client("127.0.0.1:50051") as c:
            await c.create_gallery("faces", 128)
            ids = await c.enroll("faces", np.random.rand(3, 128), ["a", "b", "c"])
            result = await c.search("faces", np.random.rand(1, 128), threshold=0.5)

    asyncio.run(main())

A client belongs to the event loop it is first used on, as a grpc.aio
channel does. Retries (UNAVAILABLE, idempotent methods), TLS and bearer
tokens work as in the synchronous client.
"""

from __future__ import annotations

import asyncio
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import grpc
import grpc.aio
import numpy as np

from candor import _arrays, _requests
from candor._proto import pb, pb_grpc
from candor._retry import RetryPolicy
from candor.client import TLS, ArrayLike, Metadata, Timeout, _channel_setup, _Timeout
from candor.errors import from_rpc_error
from candor.types import (
    CalibrationReport,
    CompactResult,
    Gallery,
    IndexSpec,
    Policy,
    SearchResult,
    Stats,
)


class Client:
    """An asyncio connection to one candor server.

    Use it as an async context manager (or ``await close()``). The
    arguments are :class:`candor.Client`'s: ``timeout`` (default deadline in
    seconds, ``None``: none), ``tls`` (``None``, ``True``, a
    :class:`candor.TLS` or ``grpc.ChannelCredentials``), ``token`` (a bearer
    token, only over TLS), ``retry``, ``metadata`` and ``options``.
    """

    def __init__(
        self,
        address: str,
        *,
        timeout: Optional[float] = 30.0,
        tls: Union[None, bool, TLS, grpc.ChannelCredentials] = None,
        token: Optional[str] = None,
        retry: Optional[RetryPolicy] = None,
        metadata: Optional[Metadata] = None,
        options: Optional[Sequence[Tuple[str, Any]]] = None,
    ) -> None:
        opts, creds = _channel_setup(tls, token, retry, options)
        self.address = address
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._metadata: Optional[Tuple[Tuple[str, str], ...]] = (
            tuple(metadata) if metadata else None
        )
        if creds is None:
            self._channel = grpc.aio.insecure_channel(address, options=opts)
        else:
            self._channel = grpc.aio.secure_channel(address, creds, options=opts)
        self._stub = pb_grpc.CandorStub(self._channel)
        # Only touched from the client's event loop, so no lock.
        self._dims: Dict[str, int] = {}

    # ------------------------------------------------------------ plumbing

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        await self._channel.close()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Waits until the channel connects; Unavailable after ``timeout`` s."""
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout)
        except asyncio.TimeoutError:
            raise from_rpc_error(_Timeout(self.address, timeout), "connect") from None

    async def _call(self, method: str, request: Any, timeout: Timeout) -> Any:
        fn = getattr(self._stub, method)
        try:
            return await fn(
                request,
                timeout=self.timeout if timeout is ... else timeout,
                metadata=self._metadata,
            )
        except grpc.RpcError as err:  # grpc.aio.AioRpcError
            raise from_rpc_error(err, method) from None

    def _remember(self, gallery: Gallery) -> Gallery:
        self._dims[gallery.name] = gallery.dimension
        return gallery

    def _dim(self, gallery: str) -> Optional[int]:
        return self._dims.get(gallery)

    # ------------------------------------------------------------ galleries

    async def create_gallery(
        self,
        name: str,
        dimension: int,
        *,
        index: Union[None, str, IndexSpec] = None,
        policy: Optional[Policy] = None,
        timeout: Timeout = ...,
    ) -> Gallery:
        """See :meth:`candor.Client.create_gallery`."""
        req = _requests.create_gallery(name, dimension, index, policy)
        return self._remember(Gallery.from_proto(await self._call("CreateGallery", req, timeout)))

    async def get_gallery(self, name: str, *, timeout: Timeout = ...) -> Gallery:
        """See :meth:`candor.Client.get_gallery`."""
        msg = await self._call("GetGallery", pb.GetGalleryRequest(name=name), timeout)
        return self._remember(Gallery.from_proto(msg))

    async def list_galleries(self, *, timeout: Timeout = ...) -> List[Gallery]:
        """See :meth:`candor.Client.list_galleries`."""
        msg = await self._call("ListGalleries", pb.ListGalleriesRequest(), timeout)
        return [self._remember(Gallery.from_proto(g)) for g in msg.galleries]

    async def delete_gallery(self, name: str, *, timeout: Timeout = ...) -> None:
        """See :meth:`candor.Client.delete_gallery`."""
        await self._call("DeleteGallery", pb.DeleteGalleryRequest(name=name), timeout)
        self._dims.pop(name, None)

    async def compact_gallery(self, name: str, *, timeout: Timeout = ...) -> CompactResult:
        """See :meth:`candor.Client.compact_gallery`."""
        msg = await self._call("CompactGallery", pb.CompactGalleryRequest(name=name), timeout)
        return CompactResult(msg.bytes_before, msg.bytes_after, msg.erased_entries)

    async def train_index(self, gallery: str, nlist: int = 0, *, timeout: Timeout = ...) -> Gallery:
        """See :meth:`candor.Client.train_index`."""
        req = pb.TrainIndexRequest(gallery=gallery, nlist=nlist)
        return self._remember(Gallery.from_proto(await self._call("TrainIndex", req, timeout)))

    # ------------------------------------------------------------ enrollment

    async def enroll(
        self,
        gallery: str,
        vectors: ArrayLike,
        subject_ids: Sequence[str],
        groups: Optional[Sequence[str]] = None,
        request_id: Optional[str] = None,
        *,
        timeout: Timeout = ...,
    ) -> np.ndarray:
        """See :meth:`candor.Client.enroll`."""
        req = _requests.enroll(gallery, vectors, subject_ids, groups, request_id, self._dim(gallery))
        msg = await self._call("Enroll", req, timeout)
        return _arrays.ids_array(msg.entry_ids)

    async def remove(
        self,
        gallery: str,
        entry_ids: Optional[Iterable[int]] = None,
        subject_id: Optional[str] = None,
        *,
        timeout: Timeout = ...,
    ) -> np.ndarray:
        """See :meth:`candor.Client.remove`."""
        req = _requests.remove(gallery, entry_ids, subject_id)
        msg = await self._call("Remove", req, timeout)
        return _arrays.ids_array(msg.removed_entry_ids)

    # ------------------------------------------------------------ search

    async def search(
        self,
        gallery: str,
        probes: ArrayLike,
        threshold: Optional[float] = None,
        top_k: int = 10,
        groups: Optional[Sequence[str]] = None,
        refs: Optional[Sequence[str]] = None,
        purpose: Optional[str] = None,
        omit_report: bool = False,
        nprobe: int = 0,
        *,
        timeout: Timeout = ...,
    ) -> SearchResult:
        """See :meth:`candor.Client.search`."""
        req = _requests.search(
            gallery, probes, threshold, top_k, groups, refs, purpose, omit_report, nprobe,
            self._dim(gallery),
        )
        return SearchResult(await self._call("Search", req, timeout))

    async def search_stream(
        self,
        gallery: str,
        batches: Union[Iterable[ArrayLike], AsyncIterable[ArrayLike]],
        threshold: Optional[float] = None,
        top_k: int = 10,
        purpose: Optional[str] = None,
        omit_report: bool = False,
        nprobe: int = 0,
        *,
        timeout: Optional[float] = None,
    ) -> AsyncIterator[SearchResult]:
        """Streams probe batches (an iterable or an async iterable) over one
        SearchStream call and yields one :class:`SearchResult` per batch, in
        the order sent. As :meth:`candor.Client.search_stream`: a batch that
        fails the client's checks ends the stream, the results before it are
        yielded, then its ValueError is raised. ``timeout`` bounds the whole
        stream (default: none)."""
        failure: List[BaseException] = []
        dim = self._dim(gallery)

        def build(batch: ArrayLike) -> "pb.SearchRequest":
            return _requests.search(
                gallery, batch, threshold, top_k, None, None, purpose, omit_report, nprobe, dim
            )

        async def requests() -> AsyncIterator["pb.SearchRequest"]:
            try:
                if hasattr(batches, "__aiter__"):
                    async for batch in batches:  # type: ignore[union-attr]
                        yield build(batch)
                else:
                    for batch in batches:  # type: ignore[union-attr]
                        yield build(batch)
            except Exception as err:  # handed to the caller below
                failure.append(err)

        call = self._stub.SearchStream(requests(), timeout=timeout, metadata=self._metadata)
        try:
            async for response in call:
                yield SearchResult(response)
        except grpc.RpcError as err:
            if failure:
                raise failure[0] from None
            raise from_rpc_error(err, "SearchStream") from None
        finally:
            call.cancel()
        if failure:
            raise failure[0]

    # ------------------------------------------------------------ telemetry

    async def calibrate(
        self,
        gallery: str,
        *,
        nonmated: Optional[ArrayLike] = None,
        nonmated_groups: Optional[Sequence[str]] = None,
        mated: Optional[ArrayLike] = None,
        mated_groups: Optional[Sequence[str]] = None,
        mated_subject_ids: Optional[Sequence[str]] = None,
        self_audit: Optional[int] = None,
        seed: int = 0,
        top_k: int = 10,
        timeout: Timeout = ...,
    ) -> CalibrationReport:
        """See :meth:`candor.Client.calibrate`."""
        req = _requests.calibrate(
            gallery, nonmated, nonmated_groups, mated, mated_groups, mated_subject_ids,
            self_audit, seed, top_k, self._dim(gallery),
        )
        return CalibrationReport.from_proto(await self._call("Calibrate", req, timeout))

    async def report(
        self,
        gallery: str,
        thresholds: Optional[Iterable[float]] = None,
        target_fpir: Optional[float] = None,
        *,
        timeout: Timeout = ...,
    ) -> CalibrationReport:
        """See :meth:`candor.Client.report`."""
        req = _requests.report(gallery, thresholds, target_fpir)
        return CalibrationReport.from_proto(await self._call("GetCalibration", req, timeout))

    async def set_policy(
        self,
        gallery: str,
        policy: Optional[Policy] = None,
        *,
        min_threshold: Optional[float] = None,
        max_fpir: Optional[float] = None,
        max_disparity: Optional[float] = None,
        action: Optional[str] = None,
        clear: bool = False,
        timeout: Timeout = ...,
    ) -> Gallery:
        """See :meth:`candor.Client.set_policy`."""
        req = _requests.set_policy(gallery, policy, min_threshold, max_fpir, max_disparity, action, clear)
        return self._remember(Gallery.from_proto(await self._call("SetPolicy", req, timeout)))

    async def stats(self, *, timeout: Timeout = ...) -> Stats:
        """See :meth:`candor.Client.stats`."""
        return Stats.from_proto(await self._call("GetStats", pb.GetStatsRequest(), timeout))


__all__ = ["Client"]
