#!/usr/bin/env bash
# Validates everything under deploy/: renders each Kustomize overlay (and the
# optional components on top), validates the renderings against the
# Kubernetes schemas (strict), cross-checks them, runs checkov on them and on
# both Dockerfiles, hadolint on both Dockerfiles, shellcheck on
# scripts/deploy, checks the Grafana dashboard and the alert rules against
# deploy/grafana/expected-metrics.txt, that the monitoring component's
# PrometheusRule and dashboard ConfigMap are those two files
# (sync-monitoring.py), and the Prometheus files with promtool where it is
# installed. Any finding fails the run.
#
#   scripts/deploy/validate.sh            # install the tools if needed, validate
#   scripts/deploy/validate.sh --setup    # only install the tools
#
# The tools come from PyPI, pinned in deploy/tools/, into a venv under the
# repository (deploy/.venv, gitignored; CANDOR_DEPLOY_VENV overrides). After
# that install the run is offline. CANDOR_K8S_VERSIONS (default
# "1.31.0 1.37.0") names the Kubernetes versions whose schemas are used:
# 1.31 is the oldest the manifests support (native gRPC probes, the preStop
# sleep action, unhealthyPodEvictionPolicy), 1.37 the newest the pinned
# kubernetes-validate knows.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=${CANDOR_DEPLOY_VENV:-$repo/deploy/.venv}
k8s_versions=${CANDOR_K8S_VERSIONS:-1.31.0 1.37.0}
tools=$repo/deploy/tools

say() { printf '== %s\n' "$*"; }

# ---------------------------------------------------------------- tools
setup_tools() {
  local stamp want
  want=$(cat "$tools/requirements.txt" "$tools/constraints.txt" | sha256sum | cut -d' ' -f1)
  stamp=$venv/.candor-tools-stamp
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  say "installing the pinned tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
    -r "$tools/requirements.txt" -c "$tools/constraints.txt"
  echo "$want" >"$stamp"
}
mkdir -p "$(dirname "$venv")"
# Two runs at once (ctest -j) share one venv: the first installs, the other waits.
exec 9>"$venv.lock"
flock 9
setup_tools
flock -u 9
if [[ ${1:-} == --setup ]]; then
  exit 0
fi

export PATH=$venv/bin:$PATH
# checkov: no calls home (it would wait on the network for guidelines).
export BC_SKIP_MAPPING=TRUE
py=$venv/bin/python
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failures=()
step() {  # step NAME COMMAND...: run, record a failure, go on
  local name=$1
  shift
  say "$name"
  if ! "$@"; then
    failures+=("$name")
    echo "FAILED: $name" >&2
  fi
}

# ---------------------------------------------------------------- render
k8s=$repo/deploy/k8s
renders=()
render() { kubectl kustomize "$1" >"$2"; }
for overlay in "$k8s"/overlays/*/; do
  name=$(basename "$overlay")
  step "render overlay $name" render "$overlay" "$out/$name.yaml"
  renders+=("$out/$name.yaml")
done
# The optional components composed with the overlays they are meant for.
# Kustomize takes no absolute paths, so the combinations refer back by
# relative path from their temporary folder.
compose() {  # compose NAME OVERLAY COMPONENT...
  local name=$1 overlay=$2 dir rel
  shift 2
  dir=$out/compose-$name
  mkdir -p "$dir"
  rel=$(realpath --relative-to="$dir" "$k8s")
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [$rel/overlays/$overlay]"
    echo "components:"
    for c in "$@"; do echo "  - $rel/components/$c"; done
  } >"$dir/kustomization.yaml"
  step "render $name ($overlay + $*)" render "$dir" "$out/$name.yaml"
  renders+=("$out/$name.yaml")
}
compose single-node-monitoring single-node monitoring
compose single-node-cert-manager single-node cert-manager
compose sharded-gpu-monitoring-cert-manager sharded gpu monitoring cert-manager

# ---------------------------------------------------------------- schemas
# Strict: unknown fields are errors. The only schemas allowed to be missing
# are the custom resources' (CRDs no schema set carries): the Prometheus
# Operator's ServiceMonitor and PrometheusRule and cert-manager's Issuer and
# Certificate; check_manifests.py checks what they select and reference,
# sync-monitoring.py that the PrometheusRule is candor-rules.yml.
schema_check() {
  local v=$1 log=$out/validate-$1.log rc=0
  kubernetes-validate --strict --quiet -k "$v" "${renders[@]}" >"$log" 2>&1 || rc=$?
  cat "$log"
  if grep -vE "Couldn't find schema for kind ((ServiceMonitor|PrometheusRule) with api version monitoring.coreos.com/v1|(Issuer|Certificate) with api version cert-manager.io/v1)" "$log" |
      grep -qE '^(WARN|ERROR)'; then
    rc=1
  fi
  return $rc
}
for v in $k8s_versions; do
  step "kubernetes-validate --strict, Kubernetes $v" schema_check "$v"
done
# Every flag the manifests pass must exist in server/.
dockerfiles=("$repo/deploy/docker/cpu.Dockerfile" "$repo/deploy/docker/cuda.Dockerfile")
step "cross-object checks, server flags, transport security" "$py" "$repo/scripts/deploy/check_manifests.py" \
  --flags-from "$repo/server" \
  --dockerfile "${dockerfiles[0]}" --dockerfile "${dockerfiles[1]}" "${renders[@]}"

# ---------------------------------------------------------------- lint
step "hadolint" hadolint --no-color --failure-threshold info "${dockerfiles[@]}"
# One checkov run for both (its start-up is most of its time). Waivers are
# inline: `checkov.io/skipN` annotations on the Kubernetes objects, and
# `# checkov:skip=ID: reason` comments in the Dockerfiles.
checkov_args=(--quiet --compact --skip-download --framework kubernetes dockerfile)
for f in "${renders[@]}" "${dockerfiles[@]}"; do checkov_args+=(-f "$f"); done
step "checkov (Kubernetes renderings, Dockerfiles)" checkov "${checkov_args[@]}"
step "shellcheck scripts/deploy" shellcheck "$repo"/scripts/deploy/*.sh
step "python syntax" "$py" -m py_compile "$repo"/scripts/deploy/*.py \
  "$repo/deploy/docker/grpc_health_check.py"

# ---------------------------------------------------------------- metrics
step "dashboard and rules use only expected metrics" \
  "$py" "$repo/scripts/deploy/check_metrics.py" "$repo/deploy/grafana/expected-metrics.txt" \
  "$repo/deploy/grafana/candor.json" "$repo/deploy/prometheus/candor-rules.yml"
# The monitoring component's PrometheusRule and dashboard ConfigMap are
# generated copies of the two files above: in step with them, and rendered
# intact in every rendering that includes the component.
step "monitoring component matches candor-rules.yml and candor.json" \
  "$py" "$repo/scripts/deploy/sync-monitoring.py" --check \
  "$out/single-node-monitoring.yaml" "$out/sharded-gpu-monitoring-cert-manager.yaml"
if command -v promtool >/dev/null; then
  step "promtool check rules" promtool check rules "$repo/deploy/prometheus/candor-rules.yml"
  # Debian's promtool is built without Kubernetes service discovery, so it
  # rejects kubernetes_sd_configs; then the rest of the file is checked
  # without those jobs (their relabel rules use only core fields).
  prom_config_check() {
    local log=$out/promtool.log
    if promtool check config "$repo/deploy/prometheus/prometheus.yml" >"$log" 2>&1; then
      cat "$log"
      return 0
    fi
    if ! grep -q 'field kubernetes_sd_configs not found' "$log"; then
      cat "$log"
      return 1
    fi
    echo "(this promtool lacks Kubernetes discovery: checking the other jobs)"
    cp "$repo/deploy/prometheus/candor-rules.yml" "$out/"
    "$py" - "$repo/deploy/prometheus/prometheus.yml" "$out/prometheus.yml" <<'EOF'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
cfg["scrape_configs"] = [j for j in cfg["scrape_configs"] if "kubernetes_sd_configs" not in j]
yaml.safe_dump(cfg, open(sys.argv[2], "w"))
EOF
    promtool check config "$out/prometheus.yml"
  }
  step "promtool check config" prom_config_check
else
  say "promtool not installed: Prometheus files not checked by promtool (scripts/install-deps.sh installs it)"
fi

if [[ ${#failures[@]} -gt 0 ]]; then
  printf 'deploy validation FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
say "deploy validation: all checks clean (${#renders[@]} renderings, Kubernetes $k8s_versions)"
