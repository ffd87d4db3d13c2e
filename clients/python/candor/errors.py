"""Typed exceptions for candor's gRPC status codes.

Every error the server returns surfaces as a subclass of :class:`CandorError`
carrying the gRPC status code and the server's message. Input the client can
check itself (array shapes, lengths) raises :class:`ValueError` before any
request is sent.

A status may carry a ``google.rpc.ErrorInfo`` detail (in the standard
``grpc-status-details-bin`` trailer); its reason, domain and metadata are on
the exception. A FAILED_PRECONDITION whose ErrorInfo says ``POLICY_REJECT``
(domain ``candor.dev``) is a :class:`PolicyViolation`; any other is a plain
:class:`FailedPrecondition`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

#: ErrorInfo.domain of candor's own reasons.
DOMAIN = "candor.dev"
#: ErrorInfo.reason of a search the gallery's policy rejected.
POLICY_REJECT = "POLICY_REJECT"


class CandorError(Exception):
    """An RPC that the server (or the transport) answered with an error.

    Attributes:
        code: the gRPC status code.
        message: the server's message (the status details), verbatim.
        method: the RPC that failed, e.g. ``"Search"``, when known.
        reason, domain, metadata: the status's ``google.rpc.ErrorInfo``
            detail, when it has one (else ``None``, ``None``, ``{}``).
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: Optional[grpc.StatusCode] = None,
        method: Optional[str] = None,
        reason: Optional[str] = None,
        domain: Optional[str] = None,
        metadata: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.method = method
        self.reason = reason
        self.domain = domain
        self.metadata: Dict[str, str] = dict(metadata or {})

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.code.name}: {self.message}"


class Cancelled(CandorError):
    code = grpc.StatusCode.CANCELLED


class Unknown(CandorError):
    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(CandorError):
    """Malformed input: bad dimension, threshold outside [-1, 1], top_k 0..."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(CandorError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(CandorError):
    """Unknown gallery, entry or subject."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(CandorError):
    """The gallery name is taken."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(CandorError):
    """The server knows who the caller is, and its policy does not let that
    identity make this call; an admin can add the identity to a role."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(CandorError):
    """Full queue or oversized batch; retry later or send smaller batches."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(CandorError):
    """The call cannot be made in the present state: no calibration yet, a
    policy override looser than the server's floor, a search without the
    purpose the server requires... (the message says which)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class PolicyViolation(FailedPrecondition):
    """A search the gallery's policy rejected (the message has the numbers):
    the status carries ErrorInfo reason ``POLICY_REJECT``, domain
    ``candor.dev``."""


class Aborted(CandorError):
    code = grpc.StatusCode.ABORTED


class OutOfRange(CandorError):
    code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(CandorError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(CandorError):
    code = grpc.StatusCode.INTERNAL


class Unavailable(CandorError):
    """The server cannot be reached or is shutting down (retried for
    idempotent calls before this is raised)."""

    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(CandorError):
    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(CandorError):
    """The server does not know who the caller is: no client certificate
    signed by a CA it trusts, and no valid bearer token."""

    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[grpc.StatusCode, Type[CandorError]] = {
    cls.code: cls
    for cls in (
        Cancelled,
        Unknown,
        InvalidArgument,
        DeadlineExceeded,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unimplemented,
        Internal,
        Unavailable,
        DataLoss,
        Unauthenticated,
    )
}


def error_class(code: grpc.StatusCode) -> Type[CandorError]:
    """The exception class raised for a gRPC status code."""
    return _BY_CODE.get(code, CandorError)


def _error_info(err: Any) -> Optional[error_details_pb2.ErrorInfo]:
    """The first ErrorInfo detail of the call's rich status, if any."""
    if not callable(getattr(err, "trailing_metadata", None)):
        return None  # not a call (a connect timeout made up by the client)
    try:
        status = rpc_status.from_call(err)
    except ValueError:
        # The trailer disagrees with the call's code or message: ignore it
        # rather than trust a detail that does not belong to this status.
        return None
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                return info
    return None


def from_rpc_error(err: grpc.RpcError, method: Optional[str] = None) -> CandorError:
    """Maps a grpc.RpcError (a grpc.Call) to the matching CandorError."""
    code_fn = getattr(err, "code", None)
    details_fn = getattr(err, "details", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    if code is None:
        code = grpc.StatusCode.UNKNOWN
    message = details_fn() if callable(details_fn) else str(err)
    info = _error_info(err)
    cls = error_class(code)
    if (
        code is grpc.StatusCode.FAILED_PRECONDITION
        and info is not None
        and info.reason == POLICY_REJECT
        and info.domain == DOMAIN
    ):
        cls = PolicyViolation
    return cls(
        message or "",
        code=code,
        method=method,
        reason=info.reason if info is not None else None,
        domain=info.domain if info is not None else None,
        metadata=dict(info.metadata) if info is not None else None,
    )
