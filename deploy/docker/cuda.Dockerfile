# syntax=docker/dockerfile:1
# candor-server for NVIDIA GPUs: candor's CUDA kernels and GPU backend
# (-DCANDOR_CUDA=ON, sm_90 code plus compute_90 PTX), CUDA 13.0.
# Build from the repository root (the context must be the whole repository):
#   docker build -f deploy/docker/cuda.Dockerfile -t candor:cuda .
# Run with the NVIDIA container runtime (`--gpus all`; on Kubernetes the
# NVIDIA device plugin), which mounts the host driver (libcuda) into it.
# NVIDIA publishes CUDA images for Ubuntu, not Debian: both stages are Ubuntu
# 24.04, whose package names scripts/install-deps.sh also uses. The FAISS GPU
# backend needs FAISS built from source with GPU support (no distribution
# ships it); pass CANDOR_CMAKE_ARGS to build-release.sh to add it.

# ---------------------------------------------------------------- build
FROM nvidia/cuda:13.0.2-devel-ubuntu24.04 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# Writes /opt/candor/share/candor/runtime-packages.txt: the Ubuntu packages
# owning every shared library the binaries load (ldd + dpkg), which the
# runtime stage installs, so the list cannot drift from the build.
RUN scripts/deploy/build-release.sh --cuda=ON --build-dir /tmp/build --prefix /opt/candor

# ---------------------------------------------------------------- runtime
# The runtime flavour carries cudart, cuBLAS and the other CUDA libraries.
FROM nvidia/cuda:13.0.2-runtime-ubuntu24.04 AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=build /opt/candor/share/candor/ /usr/local/share/candor/
# Not pinned: the versions are whatever the build stage linked against, read
# from the same archive a moment earlier (runtime-packages.txt); CUDA's own
# packages are already in this base image and install as no-ops.
# python3-grpcio is for the HEALTHCHECK (deploy/docker/grpc_health_check.py).
# hadolint ignore=DL3008
RUN apt-get update \
 && xargs -a /usr/local/share/candor/runtime-packages.txt \
      apt-get install -y --no-install-recommends python3-grpcio \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 candor \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/candor \
      --no-create-home --shell /usr/sbin/nologin candor \
 && install -d -o candor -g candor -m 0750 /var/lib/candor
COPY --from=build /opt/candor/bin/ /usr/local/bin/

ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

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
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
  CMD ["/usr/local/bin/candor-health", "--addr", "127.0.0.1:50051", "--timeout", "3", \
       "--tls-ca", "/etc/candor/tls/ca.crt", "--tls-server-name", "localhost"]
ENTRYPOINT ["/usr/local/bin/candor-server"]
CMD ["--backend=gpu", "--listen=0.0.0.0:50051", "--metrics_listen=0.0.0.0:9464", "--data_dir=/var/lib/candor", \
     "--tls_cert=/etc/candor/tls/tls.crt", "--tls_key=/etc/candor/tls/tls.key", \
     "--tls_client_ca=/etc/candor/tls/ca.crt"]
