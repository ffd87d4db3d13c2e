"""Array conversion and client-side checks (no server needed)."""

from __future__ import annotations

import numpy as np
import pytest

from candor import _arrays


def _rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def test_float32_c_order_packs_row_major_little_endian() -> None:
    x = _rng().normal(size=(3, 5)).astype(np.float32)
    m = _arrays.to_matrix(x)
    assert (m.rows, m.cols) == (3, 5)
    assert m.data == x.astype("<f4").tobytes(order="C")
    np.testing.assert_array_equal(_arrays.from_matrix(m), x)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, ">f4", ">f8", np.float16])
def test_any_float_dtype_and_order_gives_the_same_wire_bytes(order: str, dtype: str) -> None:
    base = _rng().normal(size=(4, 7)).astype(np.float16).astype(np.float64)  # exact in every dtype
    x = np.array(base, dtype=dtype, order=order)
    m = _arrays.to_matrix(x)
    assert m.data == base.astype("<f4").tobytes()


def test_non_contiguous_view_is_packed_by_rows() -> None:
    base = _rng().normal(size=(6, 8))
    view = base[::2, 1::2]  # strided view, neither C nor F contiguous
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    m = _arrays.to_matrix(view)
    np.testing.assert_array_equal(_arrays.from_matrix(m), view.astype(np.float32))


def test_integer_arrays_are_accepted_as_numbers() -> None:
    m = _arrays.to_matrix(np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(_arrays.from_matrix(m), [[0, 1, 2], [3, 4, 5]])


@pytest.mark.parametrize(
    "shape, fragment",
    [((5,), "2-D"), ((2, 3, 4), "2-D"), ((0, 4), "empty"), ((3, 0), "empty"), ((), "2-D")],
)
def test_bad_shapes_raise_value_error(shape: tuple, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        _arrays.to_matrix(np.zeros(shape, dtype=np.float32))


def test_one_dimensional_hint_mentions_reshape() -> None:
    with pytest.raises(ValueError, match="reshape"):
        _arrays.to_matrix(np.zeros(4))


def test_wrong_dimension_is_named() -> None:
    with pytest.raises(ValueError, match="3 columns.*dimension is 4"):
        _arrays.to_matrix(np.zeros((2, 3)), name="probes", dimension=4)
    assert _arrays.to_matrix(np.zeros((2, 4)), dimension=4).cols == 4


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected(bad: float) -> None:
    x = np.ones((2, 3))
    x[1, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        _arrays.to_matrix(x)


def test_float64_beyond_float32_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="NaN or infinite"):
        _arrays.to_matrix(np.full((1, 2), 1e300))


@pytest.mark.parametrize("x", [np.array([["a", "b"]]), np.zeros((1, 2), dtype=complex)])
def test_non_real_arrays_are_rejected(x: np.ndarray) -> None:
    with pytest.raises(ValueError, match="real numeric"):
        _arrays.to_matrix(x)


def test_from_matrix_checks_byte_count() -> None:
    m = _arrays.to_matrix(np.ones((2, 2)))
    m.rows = 3
    with pytest.raises(ValueError, match="expected 24"):
        _arrays.from_matrix(m)


def test_labels_must_match_rows() -> None:
    assert _arrays.check_labels(None, 3, name="groups") == []
    assert _arrays.check_labels(["a", "b"], 2, name="groups") == ["a", "b"]
    assert _arrays.check_labels(np.array(["x", "y"]), 2, name="g") == ["x", "y"]
    with pytest.raises(ValueError, match="groups: 2 values for 3 rows"):
        _arrays.check_labels(["a", "b"], 3, name="groups")
    with pytest.raises(ValueError, match="required"):
        _arrays.check_labels(None, 3, name="subject_ids", required=True)
    with pytest.raises(ValueError, match="single str"):
        _arrays.check_labels("abc", 3, name="subject_ids")


def test_ids_array_is_uint64() -> None:
    ids = _arrays.ids_array([1, 2**63 + 5])
    assert ids.dtype == np.uint64
    assert int(ids[1]) == 2**63 + 5
