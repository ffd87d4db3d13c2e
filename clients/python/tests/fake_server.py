"""An in-process fake of the Candor service for client-only tests.

Each handler is scripted per test: a list of outcomes consumed one per call
(a grpc.StatusCode to fail with, a google.rpc.Status to fail with that rich
status, details and all, or a response message), and every request received
is recorded with the call's metadata.

The server is plaintext unless given ``server_credentials``.
"""

from __future__ import annotations

from concurrent import futures
from typing import Any, Dict, List, Optional, Tuple

import grpc
from google.rpc import status_pb2
from grpc_status import rpc_status

from candor.v1 import candor_pb2 as pb
from candor.v1 import candor_pb2_grpc as pb_grpc


class FakeCandor(pb_grpc.CandorServicer):
    def __init__(self) -> None:
        self.script: Dict[str, List[Any]] = {}
        self.requests: Dict[str, List[Any]] = {}
        self.metadata: Dict[str, List[Tuple[Tuple[str, str], ...]]] = {}

    def _answer(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.setdefault(method, []).append(request)
        self.metadata.setdefault(method, []).append(tuple(context.invocation_metadata()))
        outcomes = self.script.get(method)
        if not outcomes:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"fake: {method} not scripted")
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, grpc.StatusCode):
            context.abort(outcome, f"fake {method} says {outcome.name}")
        if isinstance(outcome, status_pb2.Status):
            context.abort_with_status(rpc_status.to_status(outcome))
        return outcome

    def __getattribute__(self, name: str) -> Any:
        # Route every RPC method of the servicer to _answer.
        if name[:1].isupper() and hasattr(pb_grpc.CandorServicer, name) and name != "SearchStream":
            return lambda request, context: self._answer(name, request, context)
        return super().__getattribute__(name)

    def SearchStream(self, request_iterator: Any, context: grpc.ServicerContext) -> Any:
        for request in request_iterator:
            yield self._answer("SearchStream", request, context)


class FakeServer:
    def __init__(self, server_credentials: Optional[grpc.ServerCredentials] = None) -> None:
        self.servicer = FakeCandor()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        pb_grpc.add_CandorServicer_to_server(self.servicer, self.server)
        if server_credentials is None:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            self.port = self.server.add_secure_port("127.0.0.1:0", server_credentials)
        self.address = f"127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeServer":
        self.server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.stop(grace=None)

    def calls(self, method: str) -> List[Any]:
        return self.servicer.requests.get(method, [])


def gallery(name: str = "g", dimension: int = 4) -> "pb.Gallery":
    return pb.Gallery(name=name, dimension=dimension)
