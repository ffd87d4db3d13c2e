#!/usr/bin/env python3
"""grpc.health.v1 check for candor's container HEALTHCHECK.

Exits 0 when the server answers SERVING for the service asked about, 1
otherwise (unreachable, deadline, NOT_SERVING, unknown service, a TLS
handshake that fails): the codes Docker's HEALTHCHECK and a Kubernetes exec
probe expect.

Why Kubernetes uses it too: the kubelet's native gRPC probe speaks only
plaintext, and candor listens with TLS on any address a probe can reach.
The health service needs no client certificate, so the check only verifies
the server: --tls-ca is the CA bundle that signed the server's certificate,
--tls-server-name the name to check it against when --addr is an IP address
the certificate does not name (as 127.0.0.1 usually is not).

Why this and not grpc_health_probe: no Debian package ships that tool, and an
image step that downloads a binary is one the build machines cannot run. The
runtime image already needs gRPC; python3-grpcio (Debian) brings gRPC's
Python binding and python3-protobuf, so the health messages are described
here as a protobuf descriptor instead of generated code.

  candor-health [--addr HOST:PORT] [--service NAME] [--timeout SECONDS]
                [--tls-ca PEM [--tls-server-name NAME]]
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
    parser.add_argument("--tls-ca", help="PEM bundle: connect with TLS, verifying the server")
    parser.add_argument("--tls-server-name", help="name the server's certificate must carry")
    args = parser.parse_args(argv)
    if args.tls_server_name and not args.tls_ca:
        parser.error("--tls-server-name needs --tls-ca")

    request_cls, response_cls = _health_messages()
    if args.tls_ca:
        try:
            with open(args.tls_ca, "rb") as f:
                ca = f.read()
        except OSError as e:
            print(f"candor-health: --tls-ca: {e}", file=sys.stderr)
            return 1
        options = []
        if args.tls_server_name:
            options.append(("grpc.ssl_target_name_override", args.tls_server_name))
        channel = grpc.secure_channel(
            args.addr, grpc.ssl_channel_credentials(root_certificates=ca), options)
    else:
        channel = grpc.insecure_channel(args.addr)
    with channel:
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
