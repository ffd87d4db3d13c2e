"""Typed exceptions for candor's gRPC status codes.

Every error the server returns surfaces as a subclass of :class:`CandorError`
carrying the gRPC status code and the server's message. Input the client can
check itself (array shapes, lengths) raises :class:`ValueError` before any
request is sent.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

import grpc


class CandorError(Exception):
    """An RPC that the server (or the transport) answered with an error.

    Attributes:
        code: the gRPC status code.
        message: the server's message (the status details), verbatim.
        method: the RPC that failed, e.g. ``"Search"``, when known.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: Optional[grpc.StatusCode] = None,
        method: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.method = method

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
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(CandorError):
    """Full queue or oversized batch; retry later or send smaller batches."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class PolicyViolation(CandorError):
    """FAILED_PRECONDITION: a policy breach (the message has the numbers) or
    a missing calibration."""

    code = grpc.StatusCode.FAILED_PRECONDITION


#: The gRPC name for :class:`PolicyViolation`.
FailedPrecondition = PolicyViolation


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
        PolicyViolation,
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


def from_rpc_error(err: grpc.RpcError, method: Optional[str] = None) -> CandorError:
    """Maps a grpc.RpcError (a grpc.Call) to the matching CandorError."""
    code_fn = getattr(err, "code", None)
    details_fn = getattr(err, "details", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    if code is None:
        code = grpc.StatusCode.UNKNOWN
    message = details_fn() if callable(details_fn) else str(err)
    return error_class(code)(message or "", code=code, method=method)
