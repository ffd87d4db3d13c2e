#!/usr/bin/env python3
"""Checks deploy/authz/roles.json, the shipped authorization policy, against
the API it guards and the identities deploy/k8s issues.

  roles_test.py REPO_ROOT      (standard library only)

- it parses, in the shape of gRPC's authorization policy JSON, with only the
  string patterns gRPC accepts (exact, "prefix*", "*suffix", "*");
- each role's methods, after expanding the patterns over the RPCs that
  proto/candor/v1/candor.proto declares, are exactly the documented table;
  admin and the router cover every RPC, so a new RPC cannot be left out;
- every principal is the SPIFFE ID of a cert-manager Certificate in
  deploy/k8s/components/cert-manager, and every client role there has a rule.
"""

import json
import os
import re
import sys
import unittest

ROOT = None

SPIFFE = "spiffe://cluster.local/ns/candor/sa/"
SERVICE = "candor.v1.Candor"
# The roles as the issue and the README state them.
TABLE = {
    "searcher": {"Search", "SearchStream", "GetGallery", "ListGalleries"},
    "enroller": {"Enroll", "Remove", "GetGallery"},
    "auditor": {"GetCalibration", "GetGallery", "ListGalleries", "GetStats", "Calibrate"},
}
EVERYTHING = ("admin", "router")


def proto_rpcs(path):
    """Method names of service Candor in the .proto (comments stripped)."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"//[^\n]*", "", f.read())
    package = re.search(r"^\s*package\s+([\w.]+)\s*;", text, re.M).group(1)
    body = re.search(r"\bservice\s+Candor\s*\{(.*?)\n\}", text, re.S).group(1)
    return package, set(re.findall(r"\brpc\s+(\w+)\s*\(", body))


def pattern_matches(pattern, value):
    """gRPC's authz string matching, as its policy format defines it."""
    if pattern == "*":
        return value != ""
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def valid_pattern(pattern):
    inner = pattern[1:-1] if len(pattern) > 1 else ""
    return (
        isinstance(pattern, str)
        and pattern != ""
        and "*" not in inner
        and not (len(pattern) > 1 and pattern.startswith("*") and pattern.endswith("*"))
    )


class RolesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ROOT, "deploy/authz/roles.json"), encoding="utf-8") as f:
            cls.policy = json.load(f)
        package, cls.rpcs = proto_rpcs(os.path.join(ROOT, "proto/candor/v1/candor.proto"))
        cls.paths = {f"/{package}.Candor/{m}": m for m in cls.rpcs}
        cls.rules = {r["name"]: r for r in cls.policy["allow_rules"]}

    def test_proto_declares_the_service(self):
        # The parse found the service: every method the table names, and the
        # admin-only ones.
        for methods in TABLE.values():
            self.assertLessEqual(methods, self.rpcs)
        self.assertLessEqual({"SetPolicy", "DeleteGallery", "CreateGallery"}, self.rpcs)

    def test_shape_is_grpc_authorization_policy(self):
        self.assertLessEqual(set(self.policy), {"name", "allow_rules", "deny_rules"})
        self.assertIsInstance(self.policy["name"], str)
        self.assertTrue(self.policy["name"])
        rules = self.policy["allow_rules"] + self.policy.get("deny_rules", [])
        self.assertEqual(len({r["name"] for r in rules}), len(rules), "rule names repeat")
        for rule in rules:
            with self.subTest(rule=rule.get("name")):
                self.assertLessEqual(set(rule), {"name", "source", "request"})
                self.assertEqual(set(rule["source"]), {"principals"})
                self.assertEqual(set(rule["request"]), {"paths"})
                for p in rule["source"]["principals"] + rule["request"]["paths"]:
                    self.assertTrue(valid_pattern(p), f"not a gRPC authz pattern: {p!r}")

    def methods_of(self, rule):
        return {
            m for path, m in self.paths.items()
            if any(pattern_matches(p, path) for p in rule["request"]["paths"])
        }

    def test_every_path_names_a_method(self):
        for rule in self.policy["allow_rules"]:
            for p in rule["request"]["paths"]:
                with self.subTest(rule=rule["name"], path=p):
                    self.assertTrue(
                        any(pattern_matches(p, path) for path in self.paths),
                        f"{p} matches no RPC of {SERVICE}")

    def test_role_table(self):
        self.assertEqual(set(self.rules), set(TABLE) | set(EVERYTHING))
        for role, methods in TABLE.items():
            with self.subTest(role=role):
                self.assertEqual(self.methods_of(self.rules[role]), methods)
        for role in EVERYTHING:
            with self.subTest(role=role):
                self.assertEqual(self.methods_of(self.rules[role]), self.rpcs)
                # A pattern, so an RPC added later is covered without an edit.
                self.assertEqual(self.rules[role]["request"]["paths"], [f"/{SERVICE}/*"])

    def test_no_role_reaches_other_services(self):
        for rule in self.policy["allow_rules"]:
            for p in rule["request"]["paths"]:
                self.assertTrue(p.startswith(f"/{SERVICE}/"), p)

    def test_principals_are_the_issued_identities(self):
        for name, rule in self.rules.items():
            with self.subTest(role=name):
                self.assertEqual(rule["source"]["principals"], [SPIFFE + name])
        certs = os.path.join(ROOT, "deploy/k8s/components/cert-manager/certificates.yaml")
        with open(certs, encoding="utf-8") as f:
            issued = set(re.findall(r"^\s*-\s*(spiffe://\S+)\s*$", f.read(), re.M))
        # Every role's identity is issued; the server's is the only other.
        self.assertEqual(issued, {SPIFFE + r for r in self.rules} | {SPIFFE + "server"})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} REPO_ROOT")
    ROOT = sys.argv.pop(1)
    unittest.main()
