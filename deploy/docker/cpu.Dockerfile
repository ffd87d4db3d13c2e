# syntax=docker/dockerfile:1
# candor-server for CPUs: FAISS's CPU index over OpenBLAS, -DCANDOR_CUDA=OFF.
# Build from the repository root (the context must be the whole repository):
#   docker build -f deploy/docker/cpu.Dockerfile -t candor:cpu .
# Every step below is a script CI also runs (scripts/install-deps.sh,
# scripts/deploy/build-release.sh); the Dockerfile only orders them.

# ---------------------------------------------------------------- build
FROM debian:bookworm-slim AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# The dependency layer first, alone, so source changes reuse it.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/deploy/build-release.sh --cuda=OFF --build-dir /tmp/build --prefix /opt/candor

# ---------------------------------------------------------------- runtime
FROM debian:bookworm-slim AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The packages are those of runtime-packages.txt, which build-release.sh
# derived from the binaries (ldd, then the Debian package owning each shared
# library) plus deploy/docker/image-packages.txt (python3-grpcio for
# candor-health); no list is written here by hand, so none can fall behind
# what the binaries link. FAISS is linked statically (bookworm's
# libfaiss-dev ships only libfaiss.a) and brings OpenBLAS and libgomp1.
# image-setup.sh installs them (not pinned: the base image's tag fixes the
# release) and creates user 10001. tests/image builds a root file system with
# exactly these packages, runs this same script in it and starts the server
# there; tests/deploy checks this stage against the list.
COPY --from=build /opt/candor/share/candor/ /usr/local/share/candor/
RUN /usr/local/share/candor/image-setup.sh /usr/local/share/candor/runtime-packages.txt
COPY --from=build /opt/candor/bin/ /usr/local/bin/
# The CPU flat index's GEMM, scipy-openblas (PyPI scipy-openblas32, which
# scripts/install-deps.sh put into the build stage): the server loads it
# from ../lib/candor beside itself, so it is no Debian package. Depends on
# libc and libm only.
COPY --from=build /opt/candor/lib/ /usr/local/lib/

# candor-server sizes its GEMM threads from --gemm_threads and keeps OpenMP
# at one (docs/ARCHITECTURE.md); Kubernetes passes --gemm_threads from the
# CPU limit.
# Numeric, so Kubernetes runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/candor
VOLUME ["/var/lib/candor"]
# 50051: gRPC (candor.v1, grpc.health.v1, reflection); 9464: /metrics.
EXPOSE 50051 9464
# TLS on every address: mount a folder with tls.crt, tls.key (the server's)
# and ca.crt (the CA of the clients' certificates) at /etc/candor/tls, the
# layout of a Kubernetes TLS Secret. The server refuses plaintext on a
# non-loopback address. The HEALTHCHECK verifies the server's certificate
# under the name localhost: give the certificate that name, or override the
# check with `docker run --health-cmd`.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["/usr/local/bin/candor-health", "--addr", "127.0.0.1:50051", "--timeout", "3", \
       "--tls-ca", "/etc/candor/tls/ca.crt", "--tls-server-name", "localhost"]
ENTRYPOINT ["/usr/local/bin/candor-server"]
CMD ["--listen=0.0.0.0:50051", "--metrics_listen=0.0.0.0:9464", "--data_dir=/var/lib/candor", \
     "--tls_cert=/etc/candor/tls/tls.crt", "--tls_key=/etc/candor/tls/tls.key", \
     "--tls_client_ca=/etc/candor/tls/ca.crt"]
