"""candor.Client: the gRPC client, with NumPy in and typed results out."""

from __future__ import annotations

import os
import re
import threading
from types import EllipsisType
from dataclasses import dataclass
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import grpc
import numpy as np

from candor import _arrays, _requests
from candor._proto import pb, pb_grpc
from candor._retry import RetryPolicy
from candor.errors import CandorError, from_rpc_error
from candor.types import (
    CalibrationReport,
    CompactResult,
    Gallery,
    IndexSpec,
    Policy,
    SearchResult,
    Stats,
)

ArrayLike = Any  # anything np.asarray turns into a 2-D real array
Metadata = Sequence[Tuple[str, str]]
#: A call's deadline in seconds; None: no deadline; ... (the default): the
#: client's ``timeout``.
Timeout = Union[float, None, EllipsisType]

# Large enough for big Enroll / Search batches in either direction; gRPC's
# defaults (4 MiB received) would cut a 256-probe search at high top_k. The
# retry buffers must hold a request for gRPC to be able to repeat it.
_MiB = 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    ("grpc.per_rpc_retry_buffer_size", 64 * _MiB),
    ("grpc.retry_buffer_size", 256 * _MiB),
    ("grpc.enable_retries", 1),
]


PemSource = Union[str, "os.PathLike[str]", bytes]

# RFC 6750's token68 alphabet: what a bearer token may hold.
_TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/=-]+")


def _pem(what: str, source: Optional[PemSource]) -> Optional[bytes]:
    """PEM bytes from bytes or a file path; ValueError when it holds none."""
    if source is None:
        return None
    if isinstance(source, (bytes, bytearray)):
        data, where = bytes(source), "bytes"
    else:
        path = os.fspath(source)
        with open(path, "rb") as f:
            data, where = f.read(), path
    if b"-----BEGIN " not in data:
        raise ValueError(f"TLS {what}: {where} holds no PEM block")
    return data


@dataclass(frozen=True)
class TLS:
    """TLS settings, each a path to a PEM file or the PEM bytes themselves.

    Args:
        ca: the CA bundle that verifies the server's certificate;
            ``None``: the system's roots.
        cert, key: the client certificate (chain) and its private key, for
            mutual TLS: the certificate's identity is who the server sees
            calling. Both or neither.

    Files are read when the client is made.
    """

    ca: Optional[PemSource] = None
    cert: Optional[PemSource] = None
    key: Optional[PemSource] = None

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ValueError("TLS: a client certificate needs its key and the key its certificate (cert= and key=)")

    def credentials(self) -> grpc.ChannelCredentials:
        """gRPC channel credentials; reads the files now."""
        return grpc.ssl_channel_credentials(
            root_certificates=_pem("ca", self.ca),
            private_key=_pem("key", self.key),
            certificate_chain=_pem("cert", self.cert),
        )


def _channel_credentials(
    tls: Union[bool, TLS, grpc.ChannelCredentials], token: Optional[str]
) -> grpc.ChannelCredentials:
    if tls is True:
        creds = grpc.ssl_channel_credentials()
    elif isinstance(tls, TLS):
        creds = tls.credentials()
    else:
        creds = tls
    if token is None:
        return creds
    # gRPC's own bearer-token credentials: "authorization: Bearer <token>"
    # on every call, which gRPC never sends on an insecure channel.
    return grpc.composite_channel_credentials(creds, grpc.access_token_call_credentials(token))


def _channel_setup(
    tls: Union[None, bool, TLS, grpc.ChannelCredentials],
    token: Optional[str],
    retry: Optional[RetryPolicy],
    options: Optional[Sequence[Tuple[str, Any]]],
) -> Tuple[List[Tuple[str, Any]], Optional[grpc.ChannelCredentials]]:
    """Checks the connection arguments; the channel options and credentials
    (None: plaintext) of a client, sync or asyncio."""
    if token is not None and not _TOKEN_RE.fullmatch(token):
        raise ValueError("token: empty, or holds characters a bearer token may not (spaces, line breaks?)")
    if token is not None and (tls is None or tls is False):
        raise ValueError("token: a bearer token is sent only over TLS; give tls=candor.TLS(ca=...) or tls=True")
    opts: List[Tuple[str, Any]] = list(_CHANNEL_OPTIONS)
    opts.append(("grpc.service_config", (retry or RetryPolicy()).service_config()))
    opts.extend(options or ())
    if tls is None or tls is False:
        return opts, None
    return opts, _channel_credentials(tls, token)


class Client:
    """A connection to one candor server.

    Use it as a context manager (or call :meth:`close`)::

        with candor.Client("127.0.0.1:50051") as c:
            ids = c.enroll("faces", vectors, subject_ids)
            result = c.search("faces", probes, threshold=0.6)

    Args:
        address: ``host:port`` of the server.
        timeout: default deadline of each call, in seconds (``None``: none),
            retries included. Every method takes ``timeout=`` to override it.
        tls: ``None`` for plaintext, ``True`` for TLS with the system roots,
            a :class:`TLS` (CA, client certificate and key) or a
            ``grpc.ChannelCredentials``.
        token: a bearer token, sent as ``authorization: Bearer <token>`` on
            every call; for callers that cannot hold a client certificate.
            Only over TLS: a token without ``tls`` raises ValueError.
        retry: backoff for idempotent calls answered UNAVAILABLE (see
            :class:`RetryPolicy`); ``RetryPolicy(max_attempts=1)`` turns it off.
        metadata: sent with every call, e.g. ``[("authorization", "Bearer ...")]``.
        options: extra gRPC channel options.

    Instances are safe to share between threads, as gRPC channels are.
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
            self._channel = grpc.insecure_channel(address, options=opts)
        else:
            self._channel = grpc.secure_channel(address, creds, options=opts)
        self._stub = pb_grpc.CandorStub(self._channel)
        self._dims: Dict[str, int] = {}
        self._dims_lock = threading.Lock()

    # ------------------------------------------------------------ plumbing

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel connects; Unavailable after ``timeout`` s."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise from_rpc_error(_Timeout(self.address, timeout), "connect") from None

    def _call(self, method: str, request: Any, timeout: Timeout) -> Any:
        fn: Callable[..., Any] = getattr(self._stub, method)
        try:
            return fn(
                request,
                timeout=self.timeout if timeout is ... else timeout,
                metadata=self._metadata,
            )
        except grpc.RpcError as err:
            raise from_rpc_error(err, method) from None

    def _remember(self, gallery: Gallery) -> Gallery:
        with self._dims_lock:
            self._dims[gallery.name] = gallery.dimension
        return gallery

    def _dim(self, gallery: str) -> Optional[int]:
        with self._dims_lock:
            return self._dims.get(gallery)

    # ------------------------------------------------------------ galleries

    def create_gallery(
        self,
        name: str,
        dimension: int,
        *,
        index: Union[None, str, IndexSpec] = None,
        policy: Optional[Policy] = None,
        timeout: Timeout = ...,
    ) -> Gallery:
        """Creates an empty gallery. ``index`` is ``"FLAT"`` (default),
        ``"IVF_FLAT"`` or an :class:`IndexSpec`; ``policy`` overrides the
        server policy. AlreadyExists if the name is taken."""
        req = _requests.create_gallery(name, dimension, index, policy)
        return self._remember(Gallery.from_proto(self._call("CreateGallery", req, timeout)))

    def get_gallery(self, name: str, *, timeout: Timeout = ...) -> Gallery:
        """Describes one gallery. NotFound if there is none of that name."""
        msg = self._call("GetGallery", pb.GetGalleryRequest(name=name), timeout)
        return self._remember(Gallery.from_proto(msg))

    def list_galleries(self, *, timeout: Timeout = ...) -> List[Gallery]:
        """Every gallery on the server."""
        msg = self._call("ListGalleries", pb.ListGalleriesRequest(), timeout)
        return [self._remember(Gallery.from_proto(g)) for g in msg.galleries]

    def delete_gallery(self, name: str, *, timeout: Timeout = ...) -> None:
        """Deletes a gallery and its files. NotFound if there is none."""
        self._call("DeleteGallery", pb.DeleteGalleryRequest(name=name), timeout)
        with self._dims_lock:
            self._dims.pop(name, None)

    def compact_gallery(self, name: str, *, timeout: Timeout = ...) -> CompactResult:
        """Rewrites the gallery's snapshot so no removed vector stays on disk."""
        msg = self._call("CompactGallery", pb.CompactGalleryRequest(name=name), timeout)
        return CompactResult(msg.bytes_before, msg.bytes_after, msg.erased_entries)

    def train_index(self, gallery: str, nlist: int = 0, *, timeout: Timeout = ...) -> Gallery:
        """(Re)trains an IVF gallery's index on its current vectors."""
        msg = self._call("TrainIndex", pb.TrainIndexRequest(gallery=gallery, nlist=nlist), timeout)
        return self._remember(Gallery.from_proto(msg))

    # ------------------------------------------------------------ enrollment

    def enroll(
        self,
        gallery: str,
        vectors: ArrayLike,
        subject_ids: Sequence[str],
        groups: Optional[Sequence[str]] = None,
        request_id: Optional[str] = None,
        *,
        timeout: Timeout = ...,
    ) -> np.ndarray:
        """Enrolls one entry per row of ``vectors`` and returns their entry
        ids (uint64, in row order) once the batch is durable.

        ``request_id`` is the idempotency key: the server applies a request id
        once, and answers a repeat with the original ids. When none is given
        a random one (uuid4) is made, so the client's own retries after
        UNAVAILABLE never enroll a batch twice.
        """
        req = _requests.enroll(gallery, vectors, subject_ids, groups, request_id, self._dim(gallery))
        msg = self._call("Enroll", req, timeout)
        return _arrays.ids_array(msg.entry_ids)

    def remove(
        self,
        gallery: str,
        entry_ids: Optional[Iterable[int]] = None,
        subject_id: Optional[str] = None,
        *,
        timeout: Timeout = ...,
    ) -> np.ndarray:
        """Removes entries by id, or all entries of one subject (give exactly
        one). Returns the removed entry ids (uint64). NotFound, with nothing
        removed, if an id or the subject does not exist."""
        req = _requests.remove(gallery, entry_ids, subject_id)
        msg = self._call("Remove", req, timeout)
        return _arrays.ids_array(msg.removed_entry_ids)

    # ------------------------------------------------------------ search

    def _search_request(
        self,
        gallery: str,
        probes: ArrayLike,
        threshold: Optional[float],
        top_k: int,
        groups: Optional[Sequence[str]],
        refs: Optional[Sequence[str]],
        purpose: Optional[str],
        omit_report: bool,
        nprobe: int,
    ) -> "pb.SearchRequest":
        return _requests.search(
            gallery, probes, threshold, top_k, groups, refs, purpose, omit_report, nprobe,
            self._dim(gallery),
        )

    def search(
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
        """Searches each row of ``probes`` against ``gallery``.

        Args:
            threshold: candidates must score >= threshold (cosine, in
                [-1, 1]). ``None``: the gallery's policy threshold, which the
                report states.
            top_k: most candidates per probe (>= 1).
            groups, refs: one per probe, or None: the probe's demographic
                group (per-group telemetry) and a reference echoed back.
            purpose: why the search is made, for the audit log.
            omit_report: leave the threshold report out.
            nprobe: IVF galleries: lists visited (0 = gallery default).

        Returns a :class:`SearchResult`: per probe, candidates best first
        (ties by ascending entry id), and the threshold report.
        PolicyViolation if the gallery's policy (action REJECT) refuses the
        search; FailedPrecondition for other refusals (a missing purpose
        when the server requires one).
        """
        req = self._search_request(
            gallery, probes, threshold, top_k, groups, refs, purpose, omit_report, nprobe
        )
        return SearchResult(self._call("Search", req, timeout))

    def search_stream(
        self,
        gallery: str,
        batches: Iterable[ArrayLike],
        threshold: Optional[float] = None,
        top_k: int = 10,
        purpose: Optional[str] = None,
        omit_report: bool = False,
        nprobe: int = 0,
        *,
        timeout: Optional[float] = None,
    ) -> Iterator[SearchResult]:
        """Streams probe batches over one SearchStream call and yields one
        :class:`SearchResult` per batch, in the order sent.

        ``batches`` is consumed lazily (it may be a generator). A batch that
        fails the client's checks ends the stream: the results of the
        batches before it are yielded, then its ValueError is raised.
        ``timeout`` bounds the whole stream (default: none).
        """
        failure: List[BaseException] = []

        def requests() -> Iterator["pb.SearchRequest"]:
            for batch in batches:
                try:
                    req = self._search_request(
                        gallery, batch, threshold, top_k, None, None, purpose, omit_report, nprobe
                    )
                except Exception as err:  # handed to the caller below
                    failure.append(err)
                    return
                yield req

        call = self._stub.SearchStream(requests(), timeout=timeout, metadata=self._metadata)
        try:
            for response in call:
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

    def calibrate(
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
        """Measures FPIR(T) and FNIR(T) for a gallery and stores them.

        Either a labeled set: ``nonmated`` probes (subjects not enrolled)
        with ``nonmated_groups``, and/or ``mated`` probes with
        ``mated_groups`` and ``mated_subject_ids`` (their enrolled mates);
        or ``self_audit=<sample size>`` with ``seed``: the server samples its
        own entries. ``top_k`` is the rank within which a mate counts as found.
        """
        req = _requests.calibrate(
            gallery, nonmated, nonmated_groups, mated, mated_groups, mated_subject_ids,
            self_audit, seed, top_k, self._dim(gallery),
        )
        return CalibrationReport.from_proto(self._call("Calibrate", req, timeout))

    def report(
        self,
        gallery: str,
        thresholds: Optional[Iterable[float]] = None,
        target_fpir: Optional[float] = None,
        *,
        timeout: Timeout = ...,
    ) -> CalibrationReport:
        """The stored calibration on a threshold grid (default -1..1 by
        0.05) and the threshold that holds every group under
        ``target_fpir`` (default: the policy's max_fpir, else 0.001).
        FailedPrecondition if the gallery is not calibrated."""
        req = _requests.report(gallery, thresholds, target_fpir)
        return CalibrationReport.from_proto(self._call("GetCalibration", req, timeout))

    def set_policy(
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
        """Sets the gallery's policy override (a :class:`Policy`, or its
        fields as keywords), or removes it with ``clear=True``. The server's
        own policy is a floor: an override may only tighten it
        (FailedPrecondition names the setting it would loosen)."""
        req = _requests.set_policy(
            gallery, policy, min_threshold, max_fpir, max_disparity, action, clear
        )
        return self._remember(Gallery.from_proto(self._call("SetPolicy", req, timeout)))

    def stats(self, *, timeout: Timeout = ...) -> Stats:
        """Server-wide figures: galleries, entries, memory, backend."""
        return Stats.from_proto(self._call("GetStats", pb.GetStatsRequest(), timeout))


class _Timeout(grpc.RpcError):
    """A connect timeout shaped like a grpc.Call for from_rpc_error."""

    def __init__(self, address: str, timeout: float) -> None:
        self._msg = f"could not connect to {address} within {timeout} s"

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return self._msg


__all__ = ["Client", "TLS", "CandorError"]
