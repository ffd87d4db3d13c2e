"""candor: Python client for the candor 1:N embedding matching server.

    import numpy as np, candor
    with candor.Client("127.0.0.1:50051") as c:
        c.create_gallery("faces", 128)
        ids = c.enroll("faces", np.random.rand(3, 128), ["a", "b", "c"])
        print(c.search("faces", np.random.rand(1, 128), threshold=0.5)[0].candidates)

Errors from the server are :class:`CandorError` subclasses; bad input the
client can see (array shapes, label counts) raises ValueError before sending.
"""

from candor._retry import IDEMPOTENT_METHODS, RetryPolicy
from candor.client import TLS, Client
from candor.errors import (
    Aborted,
    AlreadyExists,
    CandorError,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    PolicyViolation,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)
from candor.types import (
    CalibrationInfo,
    CalibrationReport,
    Candidate,
    CompactResult,
    Disparity,
    Gallery,
    GroupCalibration,
    GroupRates,
    IndexSpec,
    MemoryUsage,
    Policy,
    PolicyVerdict,
    ProbeResult,
    Rate,
    SearchResult,
    Stats,
    ThresholdReport,
)

from importlib import metadata as _metadata

try:
    # One version, the distribution's (pyproject.toml), never a second copy.
    __version__ = _metadata.version("candor-client")
except _metadata.PackageNotFoundError:  # pragma: no cover - the source tree
    __version__ = "0+unknown"

__all__ = [
    "Aborted",
    "AlreadyExists",
    "CalibrationInfo",
    "CalibrationReport",
    "Candidate",
    "CandorError",
    "Cancelled",
    "Client",
    "CompactResult",
    "DataLoss",
    "DeadlineExceeded",
    "Disparity",
    "FailedPrecondition",
    "Gallery",
    "GroupCalibration",
    "GroupRates",
    "IDEMPOTENT_METHODS",
    "IndexSpec",
    "Internal",
    "InvalidArgument",
    "MemoryUsage",
    "NotFound",
    "OutOfRange",
    "PermissionDenied",
    "Policy",
    "PolicyVerdict",
    "ProbeResult",
    "Rate",
    "ResourceExhausted",
    "RetryPolicy",
    "SearchResult",
    "Stats",
    "TLS",
    "ThresholdReport",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
    "__version__",
]
