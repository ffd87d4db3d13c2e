#!/usr/bin/env python3
"""Tests deploy/docker/grpc_health_check.py (the image's HEALTHCHECK) against
a stand-in grpc.health.v1 server on a loopback port.

The stand-in speaks raw bytes, written out by hand from the wire format, so
the check's message encoding is tested against the format rather than
against the same library code that produced it.

  health_check_test.py PATH/TO/grpc_health_check.py   (run with grpcio installed)
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from concurrent import futures

import grpc

CHECK = "/grpc.health.v1.Health/Check"
# HealthCheckRequest{service}: field 1, wire type 2 (0x0a), length, bytes.
REQ_ALL = b""
REQ_CANDOR = b"\x0a\x10candor.v1.Candor"
REQ_LOADING = b"\x0a\x07loading"
# HealthCheckResponse{status}: field 1, wire type 0 (0x08), enum value.
SERVING = b"\x08\x01"
NOT_SERVING = b"\x08\x02"

SCRIPT = None
MAKE_CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib", "make_test_certs.sh")


class _Health(grpc.GenericRpcHandler):
    def service(self, details):
        if details.method != CHECK:
            return None
        return grpc.unary_unary_rpc_method_handler(self._check)

    @staticmethod
    def _check(request, context):
        if request == REQ_ALL or request == REQ_CANDOR:
            return SERVING
        if request == REQ_LOADING:
            return NOT_SERVING
        context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service, request bytes {request!r}")


class HealthCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        cls.server.add_generic_rpc_handlers((_Health(),))
        cls.port = cls.server.add_insecure_port("127.0.0.1:0")
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(grace=None)

    def run_check(self, *args, port=None):
        addr = f"127.0.0.1:{port or self.port}"
        return subprocess.run(
            [sys.executable, SCRIPT, "--addr", addr, "--timeout", "2", *args],
            capture_output=True, text=True, timeout=30,
        )

    def test_server_as_a_whole_serving(self):
        r = self.run_check()
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_named_service_serving(self):
        r = self.run_check("--service", "candor.v1.Candor")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_not_serving_fails(self):
        r = self.run_check("--service", "loading")
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_SERVING", r.stderr)

    def test_unknown_service_fails(self):
        r = self.run_check("--service", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_FOUND", r.stderr)

    def test_nothing_listening_fails(self):
        # A port the stand-in just released: nothing listens there.
        s = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        port = s.add_insecure_port("127.0.0.1:0")
        s.start()
        s.stop(grace=None).wait()
        r = self.run_check(port=port)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, "UNAVAILABLE|DEADLINE_EXCEEDED")


class TlsHealthCheckTest(unittest.TestCase):
    """The exec probe's case: a TLS server, no client certificate."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp()
        subprocess.run(["bash", MAKE_CERTS, cls.certs], check=True, timeout=60)

        def read(name):
            with open(os.path.join(cls.certs, name), "rb") as f:
                return f.read()

        creds = grpc.ssl_server_credentials([(read("server-key.pem"), read("server.pem"))])
        cls.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        cls.server.add_generic_rpc_handlers((_Health(),))
        cls.port = cls.server.add_secure_port("127.0.0.1:0", creds)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(grace=None)
        shutil.rmtree(cls.certs)

    def run_check(self, *args):
        return subprocess.run(
            [sys.executable, SCRIPT, "--addr", f"127.0.0.1:{self.port}", "--timeout", "2", *args],
            capture_output=True, text=True, timeout=30,
        )

    def ca(self, name="ca.pem"):
        return os.path.join(self.certs, name)

    def test_verified_by_ip_san(self):
        r = self.run_check("--tls-ca", self.ca())
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_verified_by_server_name(self):
        r = self.run_check("--tls-ca", self.ca(), "--tls-server-name", "localhost")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_not_serving_over_tls_fails(self):
        r = self.run_check("--tls-ca", self.ca(), "--service", "loading")
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_SERVING", r.stderr)

    def test_name_the_certificate_lacks_fails(self):
        r = self.run_check("--tls-ca", self.ca(), "--tls-server-name", "elsewhere.candor.test")
        self.assertEqual(r.returncode, 1)
        self.assertIn("UNAVAILABLE", r.stderr)

    def test_unrelated_ca_fails(self):
        r = self.run_check("--tls-ca", self.ca("other-ca.pem"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("UNAVAILABLE", r.stderr)

    def test_plaintext_against_tls_fails(self):
        r = self.run_check()
        self.assertEqual(r.returncode, 1)

    def test_missing_ca_file_fails(self):
        r = self.run_check("--tls-ca", self.ca("no-such.pem"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("--tls-ca", r.stderr)

    def test_server_name_without_ca_is_a_usage_error(self):
        r = self.run_check("--tls-server-name", "localhost")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    SCRIPT = sys.argv.pop(1)
    unittest.main(verbosity=2)
