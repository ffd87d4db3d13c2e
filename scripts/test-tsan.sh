#!/usr/bin/env bash
# The ThreadSanitizer run: builds the batcher's unit and stress tests, the
# audit log's (its group-commit writer thread) and tests/api/concurrency_test
# (many gRPC clients enrolling, removing, searching and compacting against
# one real server, every call finished from the audit writer) with
# -fsanitize=thread into build-tsan/ (or $CANDOR_TSAN_BUILD_DIR), then runs
# them. Any race report fails the run: TSAN exits with status 66.
#
#   scripts/test-tsan.sh [ctest options]
#
# Debian's Abseil, gRPC and FAISS are not instrumented; see
# tests/tsan/absl_sync.cc for how Abseil's ordering is made visible.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CANDOR_TSAN_BUILD_DIR:-${ROOT}/build-tsan}"
JOBS="${CANDOR_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="${ROOT}"

TARGETS=(request_queue_test batch_assembly_test dynamic_batcher_test
         dynamic_batcher_stress_test concurrency_test audit_log_test)
# Their test names (gtest suites), for ctest.
TESTS='^(RequestQueue|BatchAssembly|DynamicBatcher|ConcurrencyTest|AuditLogTest)'


cmake -S "${ROOT}" -B "${BUILD}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCANDOR_TSAN=ON -DCANDOR_CUDA=OFF >/dev/null
cmake --build "${BUILD}" -j"${JOBS}" --target "${TARGETS[@]}"

# The uninstrumented libraries whose libc calls TSAN should ignore
# (tests/tsan/suppressions.txt says why), one line each as TSAN wants.
SUPPRESSIONS="${BUILD}/tsan-suppressions.txt"
{
  cat "${ROOT}/tests/tsan/suppressions.txt"
  for target in "${TARGETS[@]}"; do
    ldd "$(find "${BUILD}/tests" -type f -name "${target}" | head -1)"
  done | awk '{print $1}' \
    | grep -E '^lib(grpc|gpr|upb|address_sorting|cares|protobuf|absl_)' \
    | sed 's/^/called_from_lib:/' | sort -u
} > "${SUPPRESSIONS}"

# second_deadlock_stack: both stacks of a lock-order report.
export TSAN_OPTIONS="${TSAN_OPTIONS:-suppressions=${SUPPRESSIONS} second_deadlock_stack=1 history_size=4}"
cd "${BUILD}"
ctest --output-on-failure -j"${CANDOR_TEST_JOBS:-2}" --timeout 1200 -R "${TESTS}" "$@"
