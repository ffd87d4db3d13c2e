#!/usr/bin/env python3
"""grpc.health.v1 check for candor's container HEALTHCHECK.

Exits 0 when the server answers SERVING for the service asked about, 1
otherwise (unreachable, deadline, NOT_SERVING, unknown service): the codes
Docker's HEALTHCHECK expects. Kubernetes does not need this: its native gRPC
probes ask the same service directly.

Why this and not grpc_health_probe: no Debian package ships that tool, and an
image step that downloads a binary is one the build machines cannot run. The
runtime image already needs gRPC; python3-grpcio (Debian) brings gRPC's
Python binding and python3-protobuf, so the health messages are described
here as a protobuf descriptor instead of generated code.

  candor-health [--addr HOST:PORT] [--service NAME] [--timeout SECONDS]
"""

import argparse
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def _health_messages():
    """HealthCheckRequest and HealthCheckResponse, as in grpc/health/v1/health.proto."""
    f = descriptor_pb2.FileDescriptorProto(
        name="candor_health_check/health.proto",
        package="grpc.health.v1",
        syntax="proto3",
    )
    req = f.message_type.add(name="HealthCheckRequest")
    req.field.add(
        name="service",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    resp = f.message_type.add(name="HealthCheckResponse")
    status = resp.enum_type.add(name="ServingStatus")
    for number, name in enumerate(["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]):
        status.value.add(name=name, number=number)
    resp.field.add(
        name="status",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_ENUM,
        type_name=".grpc.health.v1.HealthCheckResponse.ServingStatus",
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    # A private pool: the default one may already hold grpc.health.v1.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    classes = []
    for name in ("grpc.health.v1.HealthCheckRequest", "grpc.health.v1.HealthCheckResponse"):
        desc = pool.FindMessageTypeByName(name)
        if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
            classes.append(message_factory.GetMessageClass(desc))
        else:  # Debian bookworm's python3-protobuf (3.21)
            classes.append(message_factory.MessageFactory(pool).GetPrototype(desc))
    return classes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051")
    parser.add_argument("--service", default="", help='"" asks about the server as a whole')
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds")
    args = parser.parse_args(argv)

    request_cls, response_cls = _health_messages()
    with grpc.insecure_channel(args.addr) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=request_cls.SerializeToString,
            response_deserializer=response_cls.FromString,
        )
        try:
            response = check(request_cls(service=args.service), timeout=args.timeout)
        except grpc.RpcError as e:
            print(f"candor-health: {args.addr}: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    status = response_cls.DESCRIPTOR.enum_types_by_name["ServingStatus"].values_by_number[
        response.status
    ].name
    if status != "SERVING":
        print(f"candor-health: {args.addr} service {args.service!r}: {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
