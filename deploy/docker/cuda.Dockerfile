# syntax=docker/dockerfile:1
# candor-server for NVIDIA GPUs: candor's CUDA kernels and GPU backend
# (-DCANDOR_CUDA=ON), CUDA 13.0, with machine code for every architecture
# CUDA 13 supports from Turing on (T4 75, A100 80, A10/A40 86, L4/L40 89,
# H100/H200 90, B200 100, RTX PRO 6000 Blackwell 120) plus PTX of the newest,
# which the driver compiles for a GPU newer than all of them.
# Build from the repository root (the context must be the whole repository):
#   docker build -f deploy/docker/cuda.Dockerfile -t candor:cuda .
# Fewer architectures build faster and make a smaller image:
#   docker build --build-arg CUDA_ARCHITECTURES="90-real;90-virtual" ...
# Run with the NVIDIA container runtime (`--gpus all`; on Kubernetes the
# NVIDIA device plugin), which mounts the host driver (libcuda) into it.
# NVIDIA publishes CUDA images for Ubuntu, not Debian: both stages are Ubuntu
# 24.04, whose package names scripts/install-deps.sh also uses. The FAISS GPU
# backend needs FAISS built from source with GPU support (no distribution
# ships it); pass CANDOR_CMAKE_ARGS to build-release.sh to add it.

# ---------------------------------------------------------------- build
FROM nvidia/cuda:13.0.2-devel-ubuntu24.04 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# CMAKE_CUDA_ARCHITECTURES: "NN-real" is machine code for sm_NN, "NN-virtual"
# PTX for compute_NN. tests/deploy compiles a kernel for this default with
# the same CUDA release and checks what the binary embeds.
ARG CUDA_ARCHITECTURES="75-real;80-real;86-real;89-real;90-real;100-real;120-real;120-virtual"
# More -D options for the configure step (e.g. the FAISS GPU backend).
ARG CANDOR_CMAKE_ARGS=""
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# Writes /opt/candor/share/candor/runtime-packages.txt: the Ubuntu packages
# owning every shared library the binaries load (ldd + dpkg) and those of
# deploy/docker/image-packages.txt, which the runtime stage installs, so the
# list cannot drift from the build.
RUN CANDOR_CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES} ${CANDOR_CMAKE_ARGS}" \
    scripts/deploy/build-release.sh --cuda=ON --build-dir /tmp/build --prefix /opt/candor

# ---------------------------------------------------------------- runtime
# The runtime flavour carries cudart, cuBLAS and the other CUDA libraries.
FROM nvidia/cuda:13.0.2-runtime-ubuntu24.04 AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# image-setup.sh installs runtime-packages.txt (not pinned: the versions are
# whatever the build stage linked against, read from the same archive a
# moment earlier; CUDA's own packages are already in this base image and
# install as no-ops) and creates user 10001: the CPU image's step.
COPY --from=build /opt/candor/share/candor/ /usr/local/share/candor/
RUN /usr/local/share/candor/image-setup.sh /usr/local/share/candor/runtime-packages.txt
COPY --from=build /opt/candor/bin/ /usr/local/bin/
# The CPU flat index's GEMM (scipy-openblas), for what this server searches
# on the CPU (--backend=cpu; a bf16 gallery's rescoring): as in the CPU
# image, install-deps.sh fetched it in the build stage, build-release.sh
# staged it in lib/candor, and the server loads it from ../lib/candor beside
# itself. Without it the CPU search falls back to the OpenBLAS FAISS links.
COPY --from=build /opt/candor/lib/ /usr/local/lib/

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
