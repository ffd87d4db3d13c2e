"""candor.v1: gRPC stubs generated from proto/candor/v1/candor.proto at build time.

Nothing here is committed: ``candor_pb2``, ``candor_pb2_grpc`` and their
``.pyi`` stubs are written by the build hook in ``setup.py``.
"""
