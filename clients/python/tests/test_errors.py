"""Error mapping and retries, against an in-process fake server."""

from __future__ import annotations

from typing import Iterator

import grpc
import numpy as np
import pytest

import candor
from candor.errors import error_class
from candor.v1 import candor_pb2 as pb
from google.rpc import error_details_pb2, status_pb2
from fake_server import FakeServer, gallery

EXPECTED = {
    grpc.StatusCode.INVALID_ARGUMENT: candor.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: candor.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: candor.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: candor.FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: candor.ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: candor.Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: candor.DeadlineExceeded,
    grpc.StatusCode.UNAUTHENTICATED: candor.Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: candor.PermissionDenied,
    grpc.StatusCode.INTERNAL: candor.Internal,
    grpc.StatusCode.UNIMPLEMENTED: candor.Unimplemented,
}


@pytest.fixture()
def fake() -> Iterator[FakeServer]:
    with FakeServer() as f:
        yield f


def no_retry_client(address: str) -> candor.Client:
    return candor.Client(address, timeout=10.0, retry=candor.RetryPolicy(max_attempts=1))


def test_every_status_code_has_its_class() -> None:
    for code in grpc.StatusCode:
        if code is grpc.StatusCode.OK:
            continue
        cls = error_class(code)
        assert issubclass(cls, candor.CandorError)
        assert cls.code is code, code
    # A policy rejection is one kind of failed precondition, told apart by
    # its ErrorInfo, never by the code alone.
    assert error_class(grpc.StatusCode.FAILED_PRECONDITION) is candor.FailedPrecondition
    assert issubclass(candor.PolicyViolation, candor.FailedPrecondition)


@pytest.mark.parametrize("code", list(EXPECTED))
def test_server_status_raises_typed_exception_with_message(fake: FakeServer, code: grpc.StatusCode) -> None:
    fake.servicer.script["GetGallery"] = [code]
    with no_retry_client(fake.address) as c:
        with pytest.raises(EXPECTED[code]) as info:
            c.get_gallery("g")
    err = info.value
    assert isinstance(err, candor.CandorError)
    assert not isinstance(err, candor.PolicyViolation)
    assert err.code is code
    assert err.message == f"fake GetGallery says {code.name}"
    assert err.method == "GetGallery"
    assert code.name in str(err)
    assert (err.reason, err.domain, err.metadata) == (None, None, {})


def rich_status(code: grpc.StatusCode, message: str, *infos: error_details_pb2.ErrorInfo) -> status_pb2.Status:
    """A google.rpc.Status with ErrorInfo details, as the server sends it."""
    status = status_pb2.Status(code=code.value[0], message=message)
    for info in infos:
        status.details.add().Pack(info)
    return status


def policy_reject(domain: str = "candor.dev") -> error_details_pb2.ErrorInfo:
    return error_details_pb2.ErrorInfo(
        reason="POLICY_REJECT", domain=domain, metadata={"rule": "min_threshold", "threshold": "0.1"}
    )


def test_policy_reject_error_info_is_a_policy_violation(fake: FakeServer) -> None:
    message = "threshold 0.1 is below the policy's min_threshold 0.5 (action REJECT)"
    fake.servicer.script["Search"] = [
        rich_status(grpc.StatusCode.FAILED_PRECONDITION, message, policy_reject())
    ]
    with no_retry_client(fake.address) as c:
        with pytest.raises(candor.PolicyViolation) as info:
            c.search("g", np.ones((1, 4)), threshold=0.1)
    err = info.value
    assert isinstance(err, candor.FailedPrecondition)
    assert err.code is grpc.StatusCode.FAILED_PRECONDITION
    assert err.message == message and err.method == "Search"
    assert (err.reason, err.domain) == ("POLICY_REJECT", "candor.dev")
    assert err.metadata == {"rule": "min_threshold", "threshold": "0.1"}


def test_policy_reject_on_a_stream_is_a_policy_violation(fake: FakeServer) -> None:
    fake.servicer.script["SearchStream"] = [
        rich_status(grpc.StatusCode.FAILED_PRECONDITION, "rejected", policy_reject())
    ]
    with no_retry_client(fake.address) as c:
        with pytest.raises(candor.PolicyViolation, match="rejected"):
            list(c.search_stream("g", [np.ones((1, 4))], threshold=0.1))


@pytest.mark.parametrize(
    "infos",
    [
        (),  # no details at all: e.g. a gallery without calibration
        (error_details_pb2.ErrorInfo(reason="NOT_CALIBRATED", domain="candor.dev"),),
        (policy_reject(domain="example.org"),),  # another domain's reason
    ],
    ids=["no-details", "other-reason", "other-domain"],
)
def test_other_failed_preconditions_are_not_policy_violations(fake: FakeServer, infos) -> None:
    fake.servicer.script["GetCalibration"] = [
        rich_status(grpc.StatusCode.FAILED_PRECONDITION, "gallery g has no calibration", *infos)
    ]
    with no_retry_client(fake.address) as c:
        with pytest.raises(candor.FailedPrecondition) as info:
            c.report("g")
    err = info.value
    assert type(err) is candor.FailedPrecondition
    assert err.message == "gallery g has no calibration"
    assert err.reason == (infos[0].reason if infos else None)


def test_error_info_is_read_on_every_code(fake: FakeServer) -> None:
    info = error_details_pb2.ErrorInfo(reason="QUEUE_FULL", domain="candor.dev", metadata={"queue": "9"})
    fake.servicer.script["GetGallery"] = [rich_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "full", info)]
    with no_retry_client(fake.address) as c:
        with pytest.raises(candor.ResourceExhausted) as raised:
            c.get_gallery("g")
    assert (raised.value.reason, raised.value.metadata) == ("QUEUE_FULL", {"queue": "9"})


def test_idempotent_call_is_retried_on_unavailable(fake: FakeServer) -> None:
    fake.servicer.script["GetGallery"] = [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.UNAVAILABLE,
        gallery("g", 8),
    ]
    retry = candor.RetryPolicy(max_attempts=4, initial_backoff_s=0.01, max_backoff_s=0.02)
    with candor.Client(fake.address, timeout=10.0, retry=retry) as c:
        g = c.get_gallery("g")
    assert g.dimension == 8
    assert len(fake.calls("GetGallery")) == 3


def test_retries_are_bounded(fake: FakeServer) -> None:
    fake.servicer.script["Search"] = [grpc.StatusCode.UNAVAILABLE]
    retry = candor.RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02)
    with candor.Client(fake.address, timeout=10.0, retry=retry) as c:
        with pytest.raises(candor.Unavailable):
            c.search("g", np.ones((1, 4)), threshold=0.5)
    assert len(fake.calls("Search")) == 3


def test_other_codes_are_not_retried(fake: FakeServer) -> None:
    fake.servicer.script["GetGallery"] = [grpc.StatusCode.INTERNAL, gallery()]
    with candor.Client(fake.address, timeout=10.0) as c:
        with pytest.raises(candor.Internal):
            c.get_gallery("g")
    assert len(fake.calls("GetGallery")) == 1


@pytest.mark.parametrize("method", ["Remove", "CreateGallery", "DeleteGallery"])
def test_non_idempotent_calls_are_never_retried(fake: FakeServer, method: str) -> None:
    fake.servicer.script[method] = [grpc.StatusCode.UNAVAILABLE, pb.RemoveResponse()]
    with candor.Client(fake.address, timeout=10.0) as c:
        with pytest.raises(candor.Unavailable):
            if method == "Remove":
                c.remove("g", entry_ids=[1])
            elif method == "CreateGallery":
                c.create_gallery("g", 4)
            else:
                c.delete_gallery("g")
    assert len(fake.calls(method)) == 1


def test_retried_enroll_repeats_the_same_request_id(fake: FakeServer) -> None:
    fake.servicer.script["Enroll"] = [
        grpc.StatusCode.UNAVAILABLE,
        pb.EnrollResponse(entry_ids=[7, 8], version=1),
    ]
    retry = candor.RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.02)
    with candor.Client(fake.address, timeout=10.0, retry=retry) as c:
        ids = c.enroll("g", np.ones((2, 4)), ["a", "b"])
    assert ids.dtype == np.uint64 and ids.tolist() == [7, 8]
    sent = fake.calls("Enroll")
    assert len(sent) == 2
    assert sent[0].request_id and sent[0].request_id == sent[1].request_id


def test_enroll_makes_a_fresh_request_id_per_call_unless_given(fake: FakeServer) -> None:
    fake.servicer.script["Enroll"] = [pb.EnrollResponse(entry_ids=[1])]
    with no_retry_client(fake.address) as c:
        c.enroll("g", np.ones((1, 4)), ["a"])
        c.enroll("g", np.ones((1, 4)), ["a"])
        c.enroll("g", np.ones((1, 4)), ["a"], request_id="mine")
    ids = [r.request_id for r in fake.calls("Enroll")]
    assert ids[0] != ids[1] and len(ids[0]) >= 16
    assert ids[2] == "mine"


def test_shape_errors_are_raised_before_sending(fake: FakeServer) -> None:
    fake.servicer.script["GetGallery"] = [gallery("g", 4)]
    with no_retry_client(fake.address) as c:
        c.get_gallery("g")  # the client now knows dimension 4
        with pytest.raises(ValueError, match="dimension is 4"):
            c.search("g", np.ones((2, 5)))
        with pytest.raises(ValueError, match="dimension is 4"):
            c.enroll("g", np.ones((2, 5)), ["a", "b"])
        with pytest.raises(ValueError, match="2-D"):
            c.search("g", np.ones(4))
        with pytest.raises(ValueError, match="empty"):
            c.search("g", np.ones((0, 4)))
        with pytest.raises(ValueError, match="subject_ids: 1 values for 2 rows"):
            c.enroll("g", np.ones((2, 4)), ["a"])
        with pytest.raises(ValueError, match="refs: 3 values for 2 rows"):
            c.search("g", np.ones((2, 4)), refs=["a", "b", "c"])
        with pytest.raises(ValueError, match="request_id"):
            c.enroll("g", np.ones((1, 4)), ["a"], request_id="")
        with pytest.raises(ValueError, match="request_id"):
            c.enroll("g", np.ones((1, 4)), ["a"], request_id="x" * 129)
        with pytest.raises(ValueError, match="exactly one"):
            c.remove("g")
        with pytest.raises(ValueError):
            c.calibrate("g")
    assert fake.calls("Search") == [] and fake.calls("Enroll") == []
    assert fake.calls("Remove") == [] and fake.calls("Calibrate") == []


def test_request_fields_reach_the_server(fake: FakeServer) -> None:
    fake.servicer.script["Search"] = [pb.SearchResponse()]
    x = np.asfortranarray(np.arange(8, dtype=np.float64).reshape(2, 4))
    with no_retry_client(fake.address) as c:
        c.search("g", x, threshold=0.25, top_k=3, groups=["a", "b"], refs=["r0", "r1"],
                 purpose="case 12", omit_report=True, nprobe=5)
        c.search("g", x)
    first, second = fake.calls("Search")
    assert first.gallery == "g"
    assert (first.probes.rows, first.probes.cols) == (2, 4)
    assert np.frombuffer(first.probes.data, "<f4").tolist() == list(range(8))
    assert first.HasField("threshold") and first.threshold == 0.25
    assert first.top_k == 3 and first.purpose == "case 12" and first.omit_report and first.nprobe == 5
    assert [(p.group, p.ref) for p in first.probe_info] == [("a", "r0"), ("b", "r1")]
    assert not second.HasField("threshold")  # None = the policy threshold, unset on the wire
    assert len(second.probe_info) == 0 and second.top_k == 10


def test_search_stream_keeps_order_and_raises_bad_batch_after_earlier_results(fake: FakeServer) -> None:
    fake.servicer.script["SearchStream"] = [pb.SearchResponse(gallery_version=1)]
    fake.servicer.script["GetGallery"] = [gallery("g", 4)]

    def batches():
        yield np.ones((1, 4))
        yield np.ones((2, 4))
        yield np.ones((3, 5))  # wrong width: ends the stream

    with no_retry_client(fake.address) as c:
        c.get_gallery("g")
        got = []
        with pytest.raises(ValueError, match="dimension is 4"):
            for r in c.search_stream("g", batches(), threshold=0.1):
                got.append(r)
    assert len(got) == 2
    assert [r.probes.rows for r in fake.calls("SearchStream")] == [1, 2]


def test_connect_timeout_is_unavailable() -> None:
    with socket_closed_port() as address:
        with candor.Client(address) as c:
            with pytest.raises(candor.Unavailable, match="could not connect"):
                c.wait_ready(timeout=0.2)


class socket_closed_port:
    """An address on which nothing listens, for the life of the block."""

    def __enter__(self) -> str:
        import socket

        self._s = socket.socket()
        self._s.bind(("127.0.0.1", 0))  # bound, not listening: connects are refused
        return f"127.0.0.1:{self._s.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self._s.close()
