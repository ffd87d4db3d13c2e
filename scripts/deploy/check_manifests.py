#!/usr/bin/env python3
"""Cross-checks rendered Kubernetes manifests for mistakes that each object's
schema cannot see, because they live between objects.

  check_manifests.py [--flags-from DIR] [--pending-flags a,b]
                     [--dockerfile FILE]... RENDERED.yaml...

  - every Service, PodDisruptionBudget, NetworkPolicy and ServiceMonitor
    selects at least one workload's pods (or, for a ServiceMonitor, a
    Service), and named target ports exist on those pods;
  - every $(VAR) in a container's command or args is defined by its env or by
    the keys of a ConfigMap it loads with envFrom (Kubernetes leaves an
    undefined reference as literal text, so a typo reaches the server as a
    flag value);
  - every configMapRef / configMapKeyRef / persistentVolumeClaim names an
    object in the same rendering (a StatefulSet's claim templates count);
  - a StatefulSet's serviceName is a headless Service in the rendering;
  - every container runs as non-root, with a read-only root filesystem, all
    capabilities dropped, and startup, readiness and liveness probes;
  - with --flags-from, every --flag in the containers' args and in the
    Dockerfiles' CMD is one the server defines (ABSL_FLAG in the .cc files
    under DIR; Abseil spells them with underscores) or is named in
    --pending-flags (flags the manifests need before the server has them);
  - transport security, in the containers' args and the Dockerfiles' CMD: a
    --listen on a non-loopback address comes with --tls_cert, --tls_key and
    --tls_client_ca, and --allow_insecure appears nowhere; a container that
    serves TLS has no native `grpc` probe (the kubelet's is plaintext only);
  - every file a container's flags name (--tls_*, --shard_tls_ca,
    --authz_policy, --audit_key_file, --token_file) lies in a Secret or
    ConfigMap volume mounted whole (a subPath mount never sees a rotated
    certificate or an edited policy), and a ConfigMap in the rendering has
    that file as a key;
  - a pod that requests nvidia.com/gpu selects its nodes by nothing only
    GPU Feature Discovery or Node Feature Discovery sets (nvidia.com/gpu.*,
    nvidia.com/cuda.*, feature.node.kubernetes.io/*): a cluster with only
    the NVIDIA device plugin has no such label, so the pod would never be
    scheduled; the nvidia.com/gpu request already confines it to nodes
    whose device plugin offers a GPU;
  - cert-manager objects: each Certificate's issuer is in the rendering, a
    CA Issuer's Secret is a CA Certificate's, and when the rendering issues
    certificates, each Secret a container reads its --tls_cert from is one
    of them.
Prints each finding and exits 1 if there is any.
"""

import argparse
import glob
import json
import os
import re
import sys

import yaml

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
TLS_FLAGS = ("tls_cert", "tls_key", "tls_client_ca")
FILE_FLAGS = TLS_FLAGS + ("shard_tls_ca", "authz_policy", "audit_key_file", "token_file")
# The keys cert-manager writes into a Certificate's Secret.
CERT_SECRET_KEYS = {"tls.crt", "tls.key", "ca.crt"}


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def server_flags(src_dir):
    names = set()
    for path in glob.glob(os.path.join(src_dir, "**", "*.cc"), recursive=True):
        with open(path, encoding="utf-8", errors="replace") as f:
            names |= set(re.findall(r"ABSL_FLAG\(\s*[^,]+,\s*(\w+)\s*,", f.read()))
    return names


def flag_findings(where, args, known):
    findings = []
    for arg in args:
        m = re.match(r"--([^=]+)", arg)
        if m and m.group(1) not in known:
            findings.append(f"{where}: {arg!r}: the server has no flag --{m.group(1)}")
    return findings


def flag_values(args):
    """{flag: value} of the --flag=value arguments (a bare --flag: "true")."""
    values = {}
    for arg in args:
        m = re.match(r"--([^=]+)(?:=(.*))?$", arg)
        if m:
            values[m.group(1)] = m.group(2) if m.group(2) is not None else "true"
    return values


def is_loopback(listen):
    host = listen.rsplit(":", 1)[0] if not listen.startswith("[") else listen[1:listen.find("]")]
    return host in ("localhost", "::1") or re.fullmatch(r"127\.\d+\.\d+\.\d+", host) is not None


def transport_findings(where, args):
    """A reachable --listen without the three TLS flags, or --allow_insecure."""
    findings = []
    flags = flag_values(args)
    if "allow_insecure" in flags:
        findings.append(f"{where}: --allow_insecure: plaintext gRPC is not shipped (deploy/README.md, \"Security\")")
    listen = flags.get("listen")
    if listen is not None and not is_loopback(listen):
        missing = [f"--{f}" for f in TLS_FLAGS if not flags.get(f)]
        if missing:
            findings.append(f"{where}: --listen={listen} is reachable from other hosts "
                            f"but {', '.join(missing)} missing: every call there must be mTLS")
    return findings


def dockerfile_args(path):
    """Arguments in the last stage's ENTRYPOINT/CMD (exec form) of a Dockerfile."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"\\\n", " ", text)  # line continuations
    last = re.split(r"(?m)^FROM\s", text)[-1]
    args = []
    for m in re.finditer(r"(?m)^(?:CMD|ENTRYPOINT)\s+(\[.*\])\s*$", last):
        args += json.loads(m.group(1))
    if not args:
        sys.exit(f"check_manifests: {path}: no exec-form CMD or ENTRYPOINT found")
    return args


def dockerfile_flags(path, known):
    """Flags in the last stage's ENTRYPOINT/CMD (exec form) of a Dockerfile."""
    return flag_findings(f"{path}: CMD", dockerfile_args(path), known)


def mounted_file_findings(where, container, volumes, configmaps, issued):
    """Each file flag's path lies in a whole-directory Secret or ConfigMap mount."""
    findings = []
    flags = flag_values(container.get("args", []))
    mounts = container.get("volumeMounts", [])
    for flag in FILE_FLAGS:
        path = flags.get(flag)
        if not path:
            continue
        mount = max(
            (m for m in mounts if path.startswith(m["mountPath"].rstrip("/") + "/")),
            key=lambda m: len(m["mountPath"]), default=None)
        if mount is None:
            findings.append(f"{where}: --{flag}={path} is on no mounted volume")
            continue
        if mount.get("subPath") or mount.get("subPathExpr"):
            findings.append(f"{where}: --{flag}: {mount['mountPath']} is a subPath mount, "
                            "which never sees a renewed certificate or an edited policy")
        vol = volumes.get(mount["name"], {})
        key = path[len(mount["mountPath"].rstrip("/")) + 1:]
        if "secret" in vol:
            secret = vol["secret"].get("secretName")
            if flag in TLS_FLAGS + ("shard_tls_ca",) and secret in issued and key not in CERT_SECRET_KEYS:
                findings.append(f"{where}: --{flag}: a cert-manager Secret has no file {key}")
            if flag == "tls_cert" and issued and secret not in issued:
                findings.append(f"{where}: --tls_cert reads Secret {secret}, which no Certificate here issues")
        elif "configMap" in vol:
            name = vol["configMap"].get("name")
            if name not in configmaps:
                findings.append(f"{where}: --{flag}: ConfigMap {name} is not in the rendering")
            elif key not in configmaps[name]:
                findings.append(f"{where}: --{flag}: ConfigMap {name} has no key {key}")
        else:
            findings.append(f"{where}: --{flag}: volume {mount['name']} is not a Secret or ConfigMap")
    return findings


# Node labels only GPU Feature Discovery / Node Feature Discovery set.
DISCOVERY_LABEL = re.compile(r"^(nvidia\.com/(gpu|cuda|mig)\.|feature\.node\.kubernetes\.io/)")


def gpu_node_findings(where, pod_spec):
    """Node selection on discovery-only labels in a pod that requests a GPU."""
    wants_gpu = any(
        "nvidia.com/gpu" in (c.get("resources", {}).get(k) or {})
        for c in pod_spec.get("containers", []) for k in ("limits", "requests"))
    if not wants_gpu:
        return []
    keys = list(pod_spec.get("nodeSelector", {}))
    required = (pod_spec.get("affinity", {}).get("nodeAffinity", {})
                .get("requiredDuringSchedulingIgnoredDuringExecution", {}))
    for term in required.get("nodeSelectorTerms", []):
        keys += [e.get("key", "") for e in term.get("matchExpressions", [])]
    return [f"{where}: selects nodes by {k}, a label only GPU/Node Feature Discovery sets: "
            "without it no node matches (the nvidia.com/gpu request already picks GPU nodes)"
            for k in keys if DISCOVERY_LABEL.match(k)]


def cert_manager_findings(path, by_kind):
    findings = []
    certs = by_kind.get("Certificate", [])
    issuers = {i["metadata"]["name"]: i for i in by_kind.get("Issuer", [])}
    ca_secrets = {c["spec"]["secretName"] for c in certs if c["spec"].get("isCA")}
    for c in certs:
        ref = c["spec"].get("issuerRef", {})
        if ref.get("kind", "Issuer") == "Issuer" and ref.get("name") not in issuers:
            findings.append(f"{path}: Certificate/{c['metadata']['name']}: Issuer {ref.get('name')} is not in the rendering")
    for name, i in issuers.items():
        ca = i["spec"].get("ca")
        if ca and ca.get("secretName") not in ca_secrets:
            findings.append(f"{path}: Issuer/{name}: Secret {ca.get('secretName')} is no CA Certificate's")
    return findings


def check(path, docs, known_flags=None):
    findings = []
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    pods = []  # (workload name, pod template)
    for kind in WORKLOADS:
        for w in by_kind.get(kind, []):
            pods.append((f"{kind}/{w['metadata']['name']}", w["spec"]["template"]))
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind.get("ConfigMap", [])}
    issued = {c["spec"]["secretName"] for c in by_kind.get("Certificate", [])}
    findings += cert_manager_findings(path, by_kind)
    claims = {c["metadata"]["name"] for c in by_kind.get("PersistentVolumeClaim", [])}

    def pods_selected(selector):
        return [(n, t) for n, t in pods if matches(selector, t["metadata"].get("labels", {}))]

    def port_names(template):
        return {
            p.get("name")
            for c in template["spec"].get("containers", [])
            for p in c.get("ports", [])
        }

    for s in by_kind.get("Service", []):
        name = f"{path}: Service/{s['metadata']['name']}"
        selected = pods_selected(s["spec"].get("selector", {}))
        if not selected:
            findings.append(f"{name}: selects no pods")
        for p in s["spec"].get("ports", []):
            tp = p.get("targetPort")
            if isinstance(tp, str) and any(tp not in port_names(t) for _, t in selected):
                findings.append(f"{name}: target port {tp} is not a port of every selected pod")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if not pods_selected(pdb["spec"].get("selector", {}).get("matchLabels", {})):
            findings.append(f"{path}: PodDisruptionBudget/{pdb['metadata']['name']}: selects no pods")
    for np in by_kind.get("NetworkPolicy", []):
        name = f"{path}: NetworkPolicy/{np['metadata']['name']}"
        selected = pods_selected(np["spec"].get("podSelector", {}).get("matchLabels", {}))
        if not selected:
            findings.append(f"{name}: selects no pods")
        for rule in np["spec"].get("ingress", []):
            for p in rule.get("ports", []):
                port = p.get("port")
                if isinstance(port, str) and any(port not in port_names(t) for _, t in selected):
                    findings.append(f"{name}: port {port} is not a port of every selected pod")
            for peer in rule.get("from", []):
                # A peer with a namespaceSelector may be in other namespaces,
                # which this rendering does not hold.
                sel = peer.get("podSelector", {}).get("matchLabels")
                if sel and "namespaceSelector" not in peer and not pods_selected(sel):
                    findings.append(f"{name}: a `from` podSelector selects no pods")
    services = by_kind.get("Service", [])
    for sm in by_kind.get("ServiceMonitor", []):
        name = f"{path}: ServiceMonitor/{sm['metadata']['name']}"
        selected = [
            s for s in services
            if matches(sm["spec"].get("selector", {}).get("matchLabels", {}), s["metadata"].get("labels", {}))
        ]
        if not selected:
            findings.append(f"{name}: selects no Service")
        for ep in sm["spec"].get("endpoints", []):
            for s in selected:
                if ep.get("port") not in {p.get("name") for p in s["spec"].get("ports", [])}:
                    findings.append(f"{name}: Service/{s['metadata']['name']} has no port {ep.get('port')}")
    for ss in by_kind.get("StatefulSet", []):
        svc = [s for s in services if s["metadata"]["name"] == ss["spec"].get("serviceName")]
        if not svc or svc[0]["spec"].get("clusterIP") != "None":
            findings.append(f"{path}: StatefulSet/{ss['metadata']['name']}: serviceName is not a headless Service here")
        claims |= {t["metadata"]["name"] for t in ss["spec"].get("volumeClaimTemplates", [])}

    for wname, t in pods:
        spec = t["spec"]
        findings += gpu_node_findings(f"{path}: {wname}", spec)
        pod_sc = spec.get("securityContext", {})
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for vol in spec.get("volumes", []):
            claim = vol.get("persistentVolumeClaim", {}).get("claimName")
            if claim and claim not in claims:
                findings.append(f"{path}: {wname}: claim {claim} is not in the rendering")
        for c in spec.get("containers", []):
            where = f"{path}: {wname} container {c['name']}"
            defined = set()
            for e in c.get("env", []):
                defined.add(e["name"])
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref and ref["key"] not in configmaps.get(ref["name"], {}):
                    findings.append(f"{where}: env {e['name']} reads a missing ConfigMap key {ref['name']}/{ref['key']}")
            for src in c.get("envFrom", []):
                ref = src.get("configMapRef")
                if ref:
                    if ref["name"] not in configmaps:
                        findings.append(f"{where}: envFrom names a missing ConfigMap {ref['name']}")
                    defined |= set(configmaps.get(ref["name"], {}))
            if known_flags is not None:
                findings += flag_findings(where, c.get("args", []), known_flags)
            findings += transport_findings(where, c.get("args", []))
            findings += mounted_file_findings(where, c, volumes, configmaps, issued)
            if flag_values(c.get("args", [])).get("tls_cert"):
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    if "grpc" in c.get(probe, {}):
                        findings.append(f"{where}: {probe} is a native gRPC probe, which speaks "
                                        "plaintext to a TLS port: use the exec probe (candor-health --tls-ca)")
            for arg in c.get("command", []) + c.get("args", []):
                for var in re.findall(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
                    if var not in defined:
                        findings.append(f"{where}: {arg!r} refers to $({var}), which nothing defines")
            sc = c.get("securityContext", {})
            if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
                findings.append(f"{where}: may run as root")
            if not sc.get("readOnlyRootFilesystem"):
                findings.append(f"{where}: root filesystem is writable")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                findings.append(f"{where}: does not drop ALL capabilities")
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe not in c:
                    findings.append(f"{where}: no {probe}")
    return findings


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags-from", help="server source folder (ABSL_FLAG definitions)")
    parser.add_argument("--pending-flags", default="", help="comma-separated flag names")
    parser.add_argument("--dockerfile", action="append", default=[])
    parser.add_argument("rendered", nargs="+")
    args = parser.parse_args(argv[1:])
    findings = []
    known = None
    if args.flags_from:
        known = server_flags(args.flags_from)
        if not known:
            findings.append(f"{args.flags_from}: no ABSL_FLAG definitions found")
        known |= {f for f in args.pending_flags.split(",") if f}
        for d in args.dockerfile:
            findings += dockerfile_flags(d, known)
    for d in args.dockerfile:
        findings += transport_findings(f"{d}: CMD", dockerfile_args(d))
    for path in args.rendered:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        findings += check(path, docs, known)
    for f in findings:
        print(f"check_manifests: {f}", file=sys.stderr)
    if findings:
        return 1
    print(f"check_manifests: {len(args.rendered)} rendering(s) consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
