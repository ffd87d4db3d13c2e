"""The generated candor.v1 modules, with a clear error when they are missing."""

from __future__ import annotations

try:
    from candor.v1 import candor_pb2 as pb
    from candor.v1 import candor_pb2_grpc as pb_grpc
except ImportError as err:  # pragma: no cover - depends on how it was installed
    raise ImportError(
        "candor's generated gRPC stubs are missing: this is the source tree, "
        "not an installed package. Install it with `pip install ./clients/python` "
        "(or scripts/python/setup-venv.sh) and import it from there."
    ) from err

__all__ = ["pb", "pb_grpc"]
