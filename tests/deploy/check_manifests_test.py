#!/usr/bin/env python3
"""Tests the transport-security and mounted-file checks of
scripts/deploy/check_manifests.py: a compliant pod passes, and each way of
breaking it is reported.

  check_manifests_test.py PATH/TO/scripts/deploy   (with PyYAML installed)
"""

import importlib
import os
import sys
import tempfile
import unittest

cm = None

TLS_ARGS = [
    "--listen=0.0.0.0:50051",
    "--tls_cert=/etc/candor/tls/tls.crt",
    "--tls_key=/etc/candor/tls/tls.key",
    "--tls_client_ca=/etc/candor/tls/ca.crt",
    "--authz_policy=/etc/candor/authz/roles.json",
]
EXEC_PROBE = {"exec": {"command": ["/usr/local/bin/candor-health", "--tls-ca=/etc/candor/tls/ca.crt"]}}


def rendering():
    """A Deployment that meets every check, its ConfigMap, a Certificate."""
    container = {
        "name": "candor-server",
        "image": "candor",
        "args": list(TLS_ARGS),
        "securityContext": {
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "startupProbe": EXEC_PROBE,
        "readinessProbe": EXEC_PROBE,
        "livenessProbe": EXEC_PROBE,
        "volumeMounts": [
            {"name": "tls", "mountPath": "/etc/candor/tls", "readOnly": True},
            {"name": "authz", "mountPath": "/etc/candor/authz", "readOnly": True},
        ],
    }
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "candor"},
        "spec": {"template": {
            "metadata": {"labels": {"app": "candor"}},
            "spec": {
                "containers": [container],
                "volumes": [
                    {"name": "tls", "secret": {"secretName": "candor-server-tls"}},
                    {"name": "authz", "configMap": {"name": "candor-authz"}},
                ],
            },
        }},
    }
    return [
        deployment,
        {"kind": "ConfigMap", "metadata": {"name": "candor-authz"}, "data": {"roles.json": "{}"}},
        {"kind": "Issuer", "metadata": {"name": "ca"}, "spec": {"ca": {"secretName": "root"}}},
        {"kind": "Certificate", "metadata": {"name": "root"},
         "spec": {"secretName": "root", "isCA": True, "issuerRef": {"name": "ca"}}},
        {"kind": "Certificate", "metadata": {"name": "server"},
         "spec": {"secretName": "candor-server-tls", "issuerRef": {"name": "ca"}}},
    ]


def container_of(docs):
    return docs[0]["spec"]["template"]["spec"]["containers"][0]


class CheckManifestsTest(unittest.TestCase):
    def findings(self, docs):
        return cm.check("r.yaml", docs)

    def assertFinding(self, docs, text):
        found = self.findings(docs)
        self.assertTrue(any(text in f for f in found), f"no finding with {text!r} in {found}")

    def test_compliant_pod_passes(self):
        self.assertEqual(self.findings(rendering()), [])

    def test_loopback_listen_needs_no_tls(self):
        for listen in ("127.0.0.1:50051", "localhost:50051", "[::1]:50051"):
            with self.subTest(listen=listen):
                docs = rendering()
                container_of(docs)["args"] = [f"--listen={listen}"]
                self.assertEqual(self.findings(docs), [])

    def test_any_address_needs_tls(self):
        for listen in ("0.0.0.0:50051", "[::]:50051", "10.1.2.3:50051"):
            with self.subTest(listen=listen):
                docs = rendering()
                container_of(docs)["args"] = [f"--listen={listen}"]
                self.assertFinding(docs, "--tls_cert, --tls_key, --tls_client_ca missing")

    def test_reachable_listen_without_each_tls_flag(self):
        for flag in ("--tls_cert", "--tls_key", "--tls_client_ca"):
            with self.subTest(flag=flag):
                docs = rendering()
                c = container_of(docs)
                c["args"] = [a for a in c["args"] if not a.startswith(flag + "=")]
                self.assertFinding(docs, f"{flag} missing")

    def test_empty_tls_flag_counts_as_missing(self):
        docs = rendering()
        c = container_of(docs)
        c["args"] = [a if not a.startswith("--tls_client_ca=") else "--tls_client_ca=" for a in c["args"]]
        self.assertFinding(docs, "--tls_client_ca missing")

    def test_allow_insecure_anywhere(self):
        for arg in ("--allow_insecure", "--allow_insecure=true"):
            with self.subTest(arg=arg):
                docs = rendering()
                container_of(docs)["args"].append(arg)
                self.assertFinding(docs, "--allow_insecure")

    def test_native_grpc_probe_on_tls(self):
        docs = rendering()
        container_of(docs)["livenessProbe"] = {"grpc": {"port": 50051}}
        self.assertFinding(docs, "livenessProbe is a native gRPC probe")

    def test_flag_file_on_no_volume(self):
        docs = rendering()
        c = container_of(docs)
        c["args"] = [a.replace("/etc/candor/authz/", "/etc/candor/authz-typo/") for a in c["args"]]
        self.assertFinding(docs, "is on no mounted volume")

    def test_configmap_without_the_file(self):
        docs = rendering()
        c = container_of(docs)
        c["args"] = [a.replace("roles.json", "role.json") for a in c["args"]]
        self.assertFinding(docs, "ConfigMap candor-authz has no key role.json")

    def test_subpath_mount(self):
        docs = rendering()
        container_of(docs)["volumeMounts"][0]["subPath"] = "tls.crt"
        self.assertFinding(docs, "subPath mount")

    def test_certificate_secret_key_names(self):
        docs = rendering()
        c = container_of(docs)
        c["args"] = [a.replace("tls.key", "key.pem") for a in c["args"]]
        self.assertFinding(docs, "has no file key.pem")

    def test_tls_secret_no_certificate_issues(self):
        docs = rendering()
        docs[0]["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] = "other"
        self.assertFinding(docs, "which no Certificate here issues")

    def test_certificate_issuer_missing(self):
        docs = rendering()
        docs[4]["spec"]["issuerRef"]["name"] = "nope"
        self.assertFinding(docs, "Issuer nope is not in the rendering")

    def test_ca_issuer_secret_not_a_ca(self):
        docs = rendering()
        docs[3]["spec"]["isCA"] = False
        self.assertFinding(docs, "is no CA Certificate's")

    def test_gpu_pod_without_discovery_labels_passes(self):
        docs = rendering()
        container_of(docs)["resources"] = {"limits": {"nvidia.com/gpu": 1}}
        docs[0]["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
        self.assertEqual(self.findings(docs), [])

    def test_gpu_pod_on_feature_discovery_labels(self):
        for key in ("nvidia.com/gpu.present", "nvidia.com/gpu.product",
                    "feature.node.kubernetes.io/pci-10de.present"):
            with self.subTest(key=key):
                docs = rendering()
                container_of(docs)["resources"] = {"limits": {"nvidia.com/gpu": 1}}
                docs[0]["spec"]["template"]["spec"]["nodeSelector"] = {key: "true"}
                self.assertFinding(docs, f"selects nodes by {key}")
        docs = rendering()
        container_of(docs)["resources"] = {"limits": {"nvidia.com/gpu": 1}}
        docs[0]["spec"]["template"]["spec"]["affinity"] = {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "nvidia.com/gpu.count", "operator": "Exists"}]}]}}}
        self.assertFinding(docs, "selects nodes by nvidia.com/gpu.count")

    def test_cpu_pod_may_use_any_label(self):
        docs = rendering()
        docs[0]["spec"]["template"]["spec"]["nodeSelector"] = {"nvidia.com/gpu.present": "true"}
        self.assertEqual(self.findings(docs), [])

    def test_dockerfile_cmd(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "Dockerfile")
            with open(path, "w", encoding="utf-8") as f:
                f.write('FROM a AS build\nFROM b\nENTRYPOINT ["/x"]\n'
                        'CMD ["--listen=0.0.0.0:1", \\\n     "--tls_cert=/c", "--tls_key=/k"]\n')
            found = cm.transport_findings(path, cm.dockerfile_args(path))
            self.assertEqual(len(found), 1, found)
            self.assertIn("--tls_client_ca missing", found[0])


if __name__ == "__main__":
    sys.path.insert(0, sys.argv.pop(1))
    cm = importlib.import_module("check_manifests")
    unittest.main(verbosity=2)
