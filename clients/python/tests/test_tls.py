"""TLS, client certificates and bearer tokens.

What the client refuses before connecting; what it sends, against an
in-process fake served over TLS; and a real candor-server
($CANDOR_SERVER_BIN) that serves TLS and asks for client certificates.
Certificates are made at test time by tests/lib/make_test_certs.sh.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import grpc
import numpy as np
import pytest

import candor
from conftest import ServerProcess, start_server
from fake_server import FakeServer, gallery

REPO = Path(__file__).resolve().parents[3]
MAKE_CERTS = REPO / "tests" / "lib" / "make_test_certs.sh"
SPIFFE = "spiffe://candor.test/ns/candor/sa/"
# Test-only secrets: the server holds only their sha256.
ADMIN_TOKEN = "candor-test-admin-token-" + uuid.uuid4().hex
WRONG_TOKEN = "candor-test-wrong-token-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def certs() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="candor-certs-") as tmp:
        out = Path(tmp)
        made = subprocess.run(["bash", str(MAKE_CERTS), str(out)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.fail(f"{MAKE_CERTS} failed:\n{made.stderr}")
        yield out


def as_identity(certs: Path, name: str) -> candor.TLS:
    return candor.TLS(ca=certs / "ca.pem", cert=certs / f"{name}.pem", key=certs / f"{name}-key.pem")


# ------------------------------------------------- refused before connecting


def test_certificate_and_key_go_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cert= and key="):
        candor.TLS(cert=tmp_path / "c.pem")
    with pytest.raises(ValueError, match="cert= and key="):
        candor.TLS(ca=b"-----BEGIN CERTIFICATE-----", key=b"-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize("tls", [None, False])
def test_token_is_never_sent_in_plaintext(tls) -> None:
    with pytest.raises(ValueError, match="only over TLS"):
        candor.Client("127.0.0.1:1", tls=tls, token="secret")


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak", "caf\u00e9"])
def test_token_must_be_a_header_value(token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        candor.Client("127.0.0.1:1", tls=True, token=token)


def test_tls_files_are_read_and_checked(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing-ca.pem"):
        candor.Client("127.0.0.1:1", tls=candor.TLS(ca=tmp_path / "missing-ca.pem"))
    (tmp_path / "not-pem.txt").write_text("hello")
    with pytest.raises(ValueError, match="TLS ca: .*not-pem.txt holds no PEM block"):
        candor.Client("127.0.0.1:1", tls=candor.TLS(ca=str(tmp_path / "not-pem.txt")))
    with pytest.raises(ValueError, match="TLS key: bytes holds no PEM block"):
        candor.TLS(cert=b"-----BEGIN CERTIFICATE-----", key=b"not a key").credentials()


# ------------------------------------------------- an in-process TLS server


@pytest.fixture()
def tls_fake(certs: Path) -> Iterator[FakeServer]:
    creds = grpc.ssl_server_credentials(
        [((certs / "server-key.pem").read_bytes(), (certs / "server.pem").read_bytes())],
        root_certificates=(certs / "ca.pem").read_bytes(),
        require_client_auth=False,
    )
    with FakeServer(creds) as fake:
        yield fake


def test_token_goes_as_bearer_metadata_over_tls(tls_fake: FakeServer, certs: Path) -> None:
    tls_fake.servicer.script["GetGallery"] = [gallery("g", 4)]
    with candor.Client(tls_fake.address, tls=candor.TLS(ca=certs / "ca.pem"), token="tok.en-1") as c:
        assert c.get_gallery("g").dimension == 4
    (metadata,) = tls_fake.servicer.metadata["GetGallery"]
    assert ("authorization", "Bearer tok.en-1") in metadata


def test_pem_bytes_work_like_paths(tls_fake: FakeServer, certs: Path) -> None:
    tls_fake.servicer.script["GetGallery"] = [gallery("g", 4)]
    tls = candor.TLS(
        ca=(certs / "ca.pem").read_bytes(),
        cert=(certs / "admin.pem").read_bytes(),
        key=(certs / "admin-key.pem").read_bytes(),
    )
    with candor.Client(tls_fake.address, tls=tls) as c:
        assert c.get_gallery("g").name == "g"
    (metadata,) = tls_fake.servicer.metadata["GetGallery"]
    assert "authorization" not in dict(metadata)


def test_server_certificate_is_verified(tls_fake: FakeServer, certs: Path) -> None:
    tls_fake.servicer.script["GetGallery"] = [gallery("g", 4)]
    with candor.Client(
        tls_fake.address, tls=candor.TLS(ca=certs / "other-ca.pem"), retry=candor.RetryPolicy(max_attempts=1)
    ) as c:
        with pytest.raises(candor.Unavailable):
            c.get_gallery("g", timeout=10)
    assert tls_fake.calls("GetGallery") == []


# ------------------------------------------------- a real candor-server


@pytest.fixture(scope="module")
def tls_server(certs: Path) -> Iterator[ServerProcess]:
    """Skips, with the reason, without $CANDOR_SERVER_BIN (start_server)."""
    with tempfile.TemporaryDirectory(prefix="candor-pytest-tls-") as tmp_name:
        tmp = Path(tmp_name)
        digest = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()
        (tmp / "tokens").write_text(f"{digest} {SPIFFE}admin\n")
        # admin may do everything; the searcher only search and look.
        policy = {
            "name": "candor-python-tls-test",
            "allow_rules": [
                {"name": "admin", "source": {"principals": [SPIFFE + "admin"]}},
                {
                    "name": "searcher",
                    "source": {"principals": [SPIFFE + "searcher"]},
                    "request": {
                        "paths": [
                            "/candor.v1.Candor/Search",
                            "/candor.v1.Candor/GetGallery",
                            "/candor.v1.Candor/ListGalleries",
                        ]
                    },
                },
            ],
        }
        (tmp / "authz.json").write_text(json.dumps(policy))
        srv = start_server(
            tmp,
            extra_args=[
                f"--tls_cert={certs / 'server.pem'}",
                f"--tls_key={certs / 'server-key.pem'}",
                f"--tls_client_ca={certs / 'ca.pem'}",
                f"--token_file={tmp / 'tokens'}",
                f"--authz_policy={tmp / 'authz.json'}",
            ],
            client_kwargs={"tls": as_identity(certs, "admin")},
        )
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture()
def admin(tls_server: ServerProcess, certs: Path) -> Iterator[candor.Client]:
    with candor.Client(tls_server.address, tls=as_identity(certs, "admin"), timeout=30.0) as c:
        yield c


def test_admin_certificate_creates_enrolls_and_searches(admin: candor.Client) -> None:
    name = "tls-" + uuid.uuid4().hex[:8]
    admin.create_gallery(name, 16)
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(30, 16)).astype(np.float32)
    ids = admin.enroll(name, vectors, [f"s{i}" for i in range(30)])
    assert len(ids) == 30
    result = admin.search(name, vectors, threshold=0.5, top_k=1, purpose="tls test")
    # Each enrolled vector finds its own entry first.
    assert [r.entry_ids.tolist() for r in result] == [[i] for i in ids.tolist()]
    assert admin.get_gallery(name).size == 30


def test_no_client_certificate_is_unauthenticated(tls_server: ServerProcess, certs: Path) -> None:
    with candor.Client(tls_server.address, tls=candor.TLS(ca=certs / "ca.pem"), timeout=10.0) as c:
        with pytest.raises(candor.Unauthenticated) as info:
            c.list_galleries()
    assert info.value.message


def test_plaintext_gets_no_answer(tls_server: ServerProcess) -> None:
    retry = candor.RetryPolicy(max_attempts=1)
    with candor.Client(tls_server.address, timeout=10.0, retry=retry) as c:
        with pytest.raises(candor.Unavailable):
            c.list_galleries()


def test_token_is_an_identity(tls_server: ServerProcess, certs: Path) -> None:
    name = "tls-token-" + uuid.uuid4().hex[:8]
    tls = candor.TLS(ca=certs / "ca.pem")
    with candor.Client(tls_server.address, tls=tls, token=ADMIN_TOKEN, timeout=10.0) as c:
        assert c.create_gallery(name, 8).name == name
        assert name in [g.name for g in c.list_galleries()]
    with candor.Client(tls_server.address, tls=tls, token=WRONG_TOKEN, timeout=10.0) as c:
        with pytest.raises(candor.Unauthenticated):
            c.list_galleries()


def test_role_without_the_method_is_permission_denied(
    admin: candor.Client, tls_server: ServerProcess, certs: Path
) -> None:
    name = "tls-denied-" + uuid.uuid4().hex[:8]
    admin.create_gallery(name, 8)
    with candor.Client(tls_server.address, tls=as_identity(certs, "searcher"), timeout=10.0) as c:
        assert c.get_gallery(name).dimension == 8
        with pytest.raises(candor.PermissionDenied) as info:
            c.delete_gallery(name)
    assert info.value.method == "DeleteGallery"
    assert admin.get_gallery(name).name == name  # the denied call changed nothing
