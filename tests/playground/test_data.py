"""The playground's data sets: the built-in ones in the square, features, CSV uploads read
and refused."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.playground import data as pg_data


@pytest.mark.parametrize("name", [*pg_data.CLASSIFICATION_SETS, *pg_data.REGRESSION_SETS])
def test_datasets_lie_in_the_square_and_split_by_ratio(name):
    d = pg_data.make_dataset(name, n_samples=120, noise=0.1, train_ratio=0.3, seed=1)
    assert len(d.y_train) == 36 and len(d.y_test) == 84
    X = np.vstack([d.X_train, d.X_test])
    assert np.all(np.abs(X) < 8)
    if name in pg_data.CLASSIFICATION_SETS:
        assert d.task == "classification" and set(np.unique(d.y_train)) <= {0.0, 1.0}
    else:
        assert d.task == "regression" and np.all(np.abs(d.y_train) <= 1.0 + 1e-12)
    again = pg_data.make_dataset(name, n_samples=120, noise=0.1, train_ratio=0.3, seed=1)
    np.testing.assert_array_equal(again.X_train, d.X_train)


def test_xor_labels_are_one_where_the_signs_differ():
    d = pg_data.make_dataset("xor", n_samples=200, seed=0)
    np.testing.assert_array_equal(d.y_train, (d.X_train[:, 0] * d.X_train[:, 1] < 0))


def test_features_are_the_named_functions_of_the_points():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    A = pg_data.make_features(X, list(pg_data.FEATURES))
    expected = [X[:, 0], X[:, 1], X[:, 0] ** 2, X[:, 1] ** 2, X[:, 0] * X[:, 1]]
    expected += [np.sin(X[:, 0]), np.sin(X[:, 1])]
    np.testing.assert_allclose(A, np.column_stack(expected))
    with pytest.raises(ValueError, match="features must be"):
        pg_data.make_features(X, ["x3"])


def test_csv_classification_and_regression_are_scaled():
    X, y, task = pg_data.parse_csv("a,b,label\n0,10,3\n1,20,5\n2,30,3\n")
    assert task == "classification"
    np.testing.assert_array_equal(y, [0, 1, 0])
    np.testing.assert_allclose(X[:, 0], [-6, 0, 6])
    X, y, task = pg_data.parse_csv(b"1,1,0.5\n2,2,1.5\n3,3,2.5\n")
    assert task == "regression"
    np.testing.assert_allclose(y, [-1, 0, 1])


def test_a_header_and_the_most_rows_allowed_are_read():
    X, y, _ = pg_data.parse_csv("a,b,c\n" + "1,2,0\n3,4,1\n" * (pg_data.MAX_CSV_ROWS // 2))
    assert X.shape == (pg_data.MAX_CSV_ROWS, 2) and y.sum() == pg_data.MAX_CSV_ROWS // 2


def test_csv_values_near_the_float_range_are_scaled_without_overflow():
    X, y, task = pg_data.parse_csv("-1e308,5,-1.5e308\n1e308,5,1.5e308\n0,5,0\n")
    assert task == "regression"
    np.testing.assert_allclose(X, [[-6, -6], [6, -6], [0, -6]])
    np.testing.assert_allclose(y, [-1, 1, 0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * (pg_data.MAX_CSV_BYTES + 1), "up to 1 MB"),
        ("1,2,0\n" * (pg_data.MAX_CSV_ROWS + 1), "at most 10000"),
        ("1\n" * 499_999, "more than 10000 rows"),
        ("1,2\n3,4\n", "exactly 3"),
        ("1,2,0\n1,x,1\n", "row 2, column 2 is 'x'"),
        ("1,2,0\n1,nan,1\n", "not a finite number"),
        ("1,2,0\n", "fewer than 2 rows"),
        ("1,2,0\n1,2," + "7" * 200_000 + "\n", "cannot be read: field larger"),
    ],
)
def test_bad_csv_is_refused_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        pg_data.parse_csv(text)


def test_csv_labels_such_as_yes_and_no_classify_and_a_constant_target_is_refused():
    _, y, task, classes = pg_data.parse_csv_classes("a,b,buys\n1,2,yes\n3,4,no\n5,6,yes\n")
    assert (task, classes) == ("classification", ["no", "yes"])
    np.testing.assert_array_equal(y, [1, 0, 1])
    with pytest.raises(ValueError, match="'3' in every row: there is nothing to learn"):
        pg_data.parse_csv("1,2,3\n3,4,3\n5,6,3\n")
    with pytest.raises(ValueError, match="3 different labels"):
        pg_data.parse_csv("1,2,a\n3,4,b\n5,6,c\n")
