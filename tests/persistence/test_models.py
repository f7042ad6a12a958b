"""Models in files (:mod:`chainrule.persistence.models`): round trips bit for bit, the registry of
saveable classes, what may be stored, and the contents of a file checked where they are built
(network configurations, weights, estimators' payloads)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import persistence
from chainrule.persistence import (
    ModelFormatError,
    load,
    models,
    read_archive,
    register_model_class,
    save,
    write_archive,
)

from model_files import (
    MB,
    _set,
    assert_same_network,
    forged_network,
    forged_tensors,
    peak_growth,
    with_zeros,
)

# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_network_round_trip_is_bit_identical(tmp_path, X, dtype):
    net = cr.Network([3, 6, 5, 2], activation="tanh", dtype=dtype, random_state=1)
    save(net, tmp_path / "net.crm")
    again = load(tmp_path / "net.crm")
    assert isinstance(again, cr.Network)
    assert again.theta.dtype == dtype
    assert_same_network(net, again, X)


def test_sigmoid_beta_and_costs_round_trip(tmp_path, X):
    net = cr.Network(
        [3, 4, 2],
        activation=cr.Sigmoid(2.5),
        output_activation=cr.Sigmoid(0.5),
        cost=cr.get_cost("huber", delta=0.3),
        alpha=0.125,
        random_state=2,
    )
    save(net, tmp_path / "net")  # any file name is accepted
    again = load(tmp_path / "net")
    assert [a.beta for a in again.activations] == [2.5, 0.5]
    assert again.cost_function.delta == 0.3
    assert again.alpha == 0.125
    assert_same_network(net, again, X)


def test_per_layer_activations_round_trip(tmp_path, X):
    net = cr.Network(
        [3, 5, 4, 4, 3],
        activation=["relu", "elu", "softplus"],
        output_activation="softmax",
        cost="categorical_cross_entropy",
        random_state=3,
    )
    save(net, tmp_path / "net.crm")
    again = load(tmp_path / "net.crm")
    assert [a.name for a in again.activations] == ["relu", "elu", "softplus", "softmax"]
    assert_same_network(net, again, X)


def test_network_without_hidden_layer_round_trips(tmp_path, X):
    net = cr.Network([3, 1], cost="binary_cross_entropy", random_state=4)
    save(net, tmp_path / "net.crm")
    assert_same_network(net, load(tmp_path / "net.crm"), X)


@pytest.fixture
def square():
    act = cr.Activation("cr_test_square", lambda z: z * z, lambda z: 2 * z)
    cr.register_activation(act)
    yield act
    cr.activations._REGISTRY.user.pop(act.name, None)


def test_registered_custom_activation_round_trips(tmp_path, X, square):
    net = cr.Network([3, 4, 2], activation=square, random_state=5)
    save(net, tmp_path / "net.crm")
    again = load(tmp_path / "net.crm")
    assert again.activations[0] is square
    assert_same_network(net, again, X)


def test_unregistered_custom_activation_is_refused_with_advice(tmp_path):
    cube = cr.Activation("cr_test_cube", lambda z: z**3, lambda z: 3 * z * z)
    net = cr.Network([3, 4, 2], activation=cube, random_state=6)
    save(net, tmp_path / "net.crm")  # saving stores only the name
    with pytest.raises(ModelFormatError, match=r"'cr_test_cube'.*register_activation"):
        load(tmp_path / "net.crm")


def test_unregistered_custom_cost_is_refused_with_advice(tmp_path):
    cost = cr.Cost("cr_test_cost", lambda y, a: (a - y).sum(1), lambda y, a: np.ones_like(a))
    save(cr.Network([3, 2], cost=cost, random_state=7), tmp_path / "net.crm")
    with pytest.raises(ModelFormatError, match=r"'cr_test_cost'.*register_cost"):
        load(tmp_path / "net.crm")


def test_archive_round_trips_meta_and_every_allowed_dtype(tmp_path):
    arrays = {
        "flags": np.array([True, False, True]),
        "small": np.arange(-3, 3, dtype=np.int8),
        "counts": np.arange(6, dtype=np.uint16).reshape(2, 3),
        "half": np.linspace(0, 1, 5, dtype=np.float16),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "big_endian": np.arange(4, dtype=">i4"),
        "labels": np.array(["cat", "dög", "bird"]),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 4)),
    }
    meta = {
        "kind": "Anything",
        "params": {"hidden": (8, 4), "lr": np.float32(0.5), "n": np.int64(3), "x": None},
        "nan": float("nan"),
        "name": "réseau",
    }
    write_archive(tmp_path / "a.crm", meta, arrays)
    meta2, arrays2 = read_archive(tmp_path / "a.crm")
    assert meta2["kind"] == "Anything"
    assert meta2["params"] == {"hidden": [8, 4], "lr": 0.5, "n": 3, "x": None}
    assert np.isnan(meta2["nan"])
    assert meta2["name"] == "réseau"
    assert set(meta2) == set(meta)  # the envelope is not handed back
    assert set(arrays2) == set(arrays)
    for name, a in arrays.items():
        assert arrays2[name].dtype == a.dtype.newbyteorder("<"), name  # safetensors' order
        assert np.array_equal(arrays2[name], a), name


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.crm")


# -- registered model classes ------------------------------------------------------------------


class Doubler:
    """A stand-in for an estimator: a network and some fitted state."""

    def __init__(self, net, classes):
        self.net, self.classes_ = net, classes

    def to_payload(self):
        meta, arrays = persistence.network_payload(self.net)
        return {"network": meta, "n_classes": len(self.classes_)}, {
            **arrays,
            "classes_": self.classes_,
        }

    @classmethod
    def from_payload(cls, meta, arrays):
        net = persistence.network_from_payload(meta["network"], arrays)
        assert len(arrays["classes_"]) == meta["n_classes"]
        return cls(net, arrays["classes_"])


def test_registered_class_round_trips(tmp_path, X, monkeypatch):
    monkeypatch.setitem(models._MODEL_CLASSES, "Doubler", Doubler)
    model = Doubler(cr.Network([3, 4, 2], random_state=10), np.array(["no", "yes"]))
    save(model, tmp_path / "m.crm")
    again = load(tmp_path / "m.crm")
    assert isinstance(again, Doubler)
    assert again.classes_.tolist() == ["no", "yes"]
    assert_same_network(model.net, again.net, X)


def test_a_payload_of_the_wrong_shape_is_a_format_error(tmp_path, monkeypatch):
    monkeypatch.setitem(models._MODEL_CLASSES, "Doubler", Doubler)
    save(Doubler(cr.Network([3, 2], random_state=10), np.array([0, 1])), tmp_path / "m.crm")
    meta, arrays = read_archive(tmp_path / "m.crm")
    meta["network"] = [meta["network"]]  # a list where the loader expects an object
    write_archive(tmp_path / "m.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match="invalid Doubler payload: AttributeError"):
        load(tmp_path / "m.crm")
    # the same for an estimator, whose fitted attributes become a list
    X = np.random.default_rng(0).normal(size=(20, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        cr.MLPRegressor(hidden_layer_sizes=2, max_iter=2).fit(X, X[:, 0]).save(tmp_path / "r.crm")
    meta, arrays = read_archive(tmp_path / "r.crm")
    meta["fitted"] = [1]
    write_archive(tmp_path / "r.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match="fitted"):
        load(tmp_path / "r.crm")


def test_register_model_class_checks_its_argument(monkeypatch):
    monkeypatch.setattr(models, "_MODEL_CLASSES", {})
    assert register_model_class(Doubler) is Doubler
    assert models._MODEL_CLASSES == {"Doubler": Doubler}
    with pytest.raises(TypeError, match="to_payload"):
        register_model_class(int)
    with pytest.raises(TypeError, match="expected a class"):
        register_model_class(Doubler(None, []))


def test_unregistered_class_cannot_be_saved(tmp_path):
    model = Doubler(cr.Network([3, 2], random_state=11), np.array([0, 1]))
    with pytest.raises(ValueError, match="register_model_class"):
        save(model, tmp_path / "m.crm")
    assert not (tmp_path / "m.crm").exists()
    with pytest.raises(TypeError, match="cannot save"):
        save(object(), tmp_path / "m.crm")


def test_unknown_kind_is_refused(tmp_path):
    write_archive(tmp_path / "m.crm", {"kind": "Mystery"}, {})
    with pytest.raises(ModelFormatError, match="unknown kind 'Mystery'"):
        load(tmp_path / "m.crm")


@pytest.mark.parametrize(
    ("meta", "arrays", "error", "match"),
    [
        ({"kind": "K"}, {"x": np.array([{}, 1], dtype=object)}, ValueError, "never pickled"),
        ({"kind": "K"}, {"x": np.array(["2020-01-01"], dtype="M8[D]")}, ValueError, "dtype"),
        ({"kind": "K"}, {"../x": np.zeros(2)}, ValueError, "invalid array name"),
        ({"kind": "K", "arrays": 1}, {}, ValueError, "reserved"),
        ({"kind": "K", "w": np.zeros(2)}, {}, TypeError, "pass arrays in `arrays`"),
        ({"kind": "K", "f": print}, {}, TypeError, "JSON cannot store"),
        ({}, {}, ValueError, "kind"),
    ],
)
def test_unstorable_content_is_refused_and_the_target_kept(tmp_path, meta, arrays, error, match):
    target = tmp_path / "m.crm"
    write_archive(target, {"kind": "Old"}, {"a": np.arange(3)})
    before = target.read_bytes()
    with pytest.raises(error, match=match):
        write_archive(target, meta, arrays)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.crm"]


@pytest.mark.parametrize(
    ("config_change", "match"),
    [
        ({"layer_sizes": [3, 10**9, 2]}, r"theta must have shape"),
        ({"layer_sizes": [3, True]}, "invalid layer_sizes"),
        ({"dtype": "float16"}, "invalid dtype"),
        ({"activation": [{"name": "sigmoid", "gamma": 1}]}, "invalid activation config"),
        ({"activation": [{"name": 3}]}, "invalid activation config"),
        ({"activation": []}, "expected 1 hidden activations"),
        ({"cost": {"name": "huber", "delta": "wide"}}, "invalid cost config"),
        ({"alpha": -1.0}, "alpha must be >= 0"),
        ({"alpha": None}, "invalid alpha"),
        ({"l1_ratio": "x"}, "invalid l1_ratio"),
        ({"l1_ratio": 1.5}, r"l1_ratio must be in \[0, 1\]"),
        ({"activation": ["softmax"]}, "output layer only"),
    ],
)
def test_invalid_network_config_is_refused(tmp_path, config_change, match):
    config = cr.Network([3, 4, 2], random_state=16).get_config()
    path = forged_network(tmp_path, config={**config, **config_change})
    with pytest.raises(ModelFormatError, match=match):
        load(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_refused(tmp_path, bad):
    net = cr.Network([3, 2], random_state=5)
    net.theta[4] = bad
    save(net, tmp_path / "bad.crm")
    with pytest.raises(ModelFormatError, match=r"non-finite weight.*index 4"):
        load(tmp_path / "bad.crm")


# -- crafted estimator files (issue 17.2, 17.5) -------------------------------------------------


@pytest.fixture(scope="module")
def estimator_files(tmp_path_factory):
    """A saved MLPClassifier and a saved Standardized one (what `chainrule train` writes)."""
    from chainrule.estimators import Standardized

    d = tmp_path_factory.mktemp("estimators")
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        cr.MLPClassifier(hidden_layer_sizes=4, max_iter=3, random_state=0).fit(X, y).save(
            d / "clf.crm"
        )
        Standardized.fit(cr.MLPClassifier(hidden_layer_sizes=4, max_iter=3), X, y).save(
            d / "std.crm"
        )
    return d


def test_a_file_cannot_set_the_checkpoint_through_its_fitted_attributes(estimator_files, tmp_path):
    meta, arrays = read_archive(estimator_files / "clf.crm")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    meta["fitted"]["checkpoint"] = str(victim)  # a path parameter, smuggled as fitted state
    meta["fitted"]["predict"] = 1  # any other name: not restored either
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    model = load(tmp_path / "crafted.crm")
    assert model.checkpoint is None and callable(model.predict)
    X = np.random.default_rng(1).normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, (X[:, 1] > 0).astype(int))
    assert victim.read_text() == "precious"


@pytest.mark.parametrize(
    "classes",
    [np.array([0, 1, 2]), np.array([0]), np.array([[0, 1]]), np.array([1, 1])],
    ids=["three", "one", "2d", "repeated"],
)
def test_classes_that_do_not_fit_the_outputs_are_refused(estimator_files, tmp_path, classes):
    meta, arrays = read_archive(estimator_files / "clf.crm")  # binary: one output unit
    arrays["classes_"] = classes
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match="classes_"):
        load(tmp_path / "crafted.crm")


def test_nan_classes_are_refused_without_a_warning(estimator_files, tmp_path):
    meta, arrays = read_archive(estimator_files / "clf.crm")
    arrays["classes_"] = np.array([0.0, np.nan])
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match="NaN"):
        load(tmp_path / "crafted.crm")


def test_unsorted_classes_are_refused(estimator_files, tmp_path):
    """Output unit k is the k-th sorted label: classes_ stored as [1, 0] would swap every
    prediction of the binary model (before, they were silently sorted back)."""
    meta, arrays = read_archive(estimator_files / "clf.crm")
    arrays["classes_"] = arrays["classes_"][::-1].copy()
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match=r"classes_ must be sorted, got array\(\[1, 0\]"):
        load(tmp_path / "crafted.crm")


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("activation", "tanh", r"its activation is \['relu'\], the parameters say \['tanh'\]"),
        ("dtype", "float32", r"its dtype is 'float64', the parameters say 'float32'"),
        ("output_activation", "identity", r"output_activation='identity' gives values outside"),
    ],
)
def test_parameters_that_disagree_with_the_network_are_refused(
    estimator_files, tmp_path, param, value, match
):
    meta, arrays = read_archive(estimator_files / "clf.crm")
    meta["params"][param] = value
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match="the parameters disagree with the network: "):
        load(tmp_path / "crafted.crm")
    with pytest.raises(ModelFormatError, match=match):
        load(tmp_path / "crafted.crm")


def test_hidden_sizes_follow_the_network_as_for_weights_assigned_before_the_fit(tmp_path):
    """scikit-learn trains weights assigned before a fit whatever hidden_layer_sizes says:
    such a model saves and loads, its network's sizes rule."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    clf = cr.MLPClassifier(hidden_layer_sizes=(100,), solver="sgd", max_iter=1)
    clf.coefs_ = [np.full((3, 2), 0.1), np.full((2, 1), 0.1)]
    clf.intercepts_ = [np.zeros(2), np.zeros(1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X, (X[:, 0] > 0).astype(int), classes=[0, 1])
    clf.save(tmp_path / "preset.crm")
    again = load(tmp_path / "preset.crm")
    assert tuple(again.network_.layer_sizes) == (3, 2, 1)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["junk", "model.junk"])
def test_a_standardized_file_reads_only_the_arrays_it_uses(estimator_files, tmp_path, name):
    path = with_zeros(estimator_files / "std.crm", tmp_path / "padded.crm", {name: 50_000_000})
    assert path.stat().st_blocks * 512 < 400_000
    said, grown = peak_growth(path)
    assert said == "loaded"
    assert grown < 40 * MB, grown  # reading the array would take 400 MB


@pytest.mark.parametrize(
    "name,value",
    [
        ("mean", np.array([np.nan, 0.0, 0.0])),
        ("mean", np.zeros(2)),
        ("mean", np.zeros((1, 3))),
        ("mean", np.array(["a", "b", "c"])),
        ("scale", np.array([0.0, 1.0, 1.0])),
        ("scale", np.array([-1.0, 1.0, 1.0])),
        ("scale", np.array([np.nan, 1.0, 1.0])),
        ("scale", np.array([np.inf, 1.0, 1.0])),
        ("scale", np.ones(4)),
    ],
    ids=["nan-mean", "short-mean", "2d-mean", "text-mean", "zero-scale", "negative-scale",
         "nan-scale", "inf-scale", "long-scale"],
)  # fmt: skip
def test_a_standardized_file_with_a_bad_mean_or_scale_is_refused_at_load(
    estimator_files, tmp_path, name, value
):
    meta, arrays = read_archive(estimator_files / "std.crm")
    arrays[name] = value
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match=rf"\b{name}\b"):
        load(tmp_path / "crafted.crm")


@pytest.mark.parametrize(
    "param,value",
    [
        ("hidden_layer_sizes", "abc"),
        ("max_iter", -1),
        ("solver", "newton"),
        ("alpha", "x"),
        ("learning_rate_init", 0),
        ("tol", None),
    ],
)
def test_a_file_with_invalid_parameters_is_refused_at_load(estimator_files, tmp_path, param, value):
    for name, where in (("clf.crm", ()), ("std.crm", ("model",))):
        meta, arrays = read_archive(estimator_files / name)
        inner = meta
        for key in where:
            inner = inner[key]
        inner["params"][param] = value
        write_archive(tmp_path / "crafted.crm", meta, arrays)
        with pytest.raises(ModelFormatError, match=rf"'{param}' parameter"):
            load(tmp_path / "crafted.crm")


@pytest.mark.parametrize(
    "name,value",
    [
        ("loss_curve_", np.array(["a", "b"])),
        ("loss_curve_", np.zeros((2, 2))),
        ("validation_scores_", np.array([True, False])),
        ("feature_names_in_", np.array([1, 2, 3])),
        ("feature_names_in_", np.array([["a", "b", "c"]])),
    ],
    ids=["text-loss-curve", "2d-loss-curve", "bool-scores", "integer-names", "2d-names"],
)
def test_fitted_arrays_of_the_wrong_type_or_shape_are_refused(
    estimator_files, tmp_path, name, value
):
    meta, arrays = read_archive(estimator_files / "clf.crm")
    arrays[name] = value
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match=name):
        load(tmp_path / "crafted.crm")


@pytest.mark.parametrize(
    "name,value",
    [("n_iter_", "3"), ("n_iter_", -1), ("t_", 1.5), ("loss_", "low"), ("best_run_", True),
     ("n_features_in_", [3])],
)  # fmt: skip
def test_fitted_scalars_of_the_wrong_type_are_refused(estimator_files, tmp_path, name, value):
    meta, arrays = read_archive(estimator_files / "clf.crm")
    meta["fitted"][name] = value
    write_archive(tmp_path / "crafted.crm", meta, arrays)
    with pytest.raises(ModelFormatError, match=name):
        load(tmp_path / "crafted.crm")


def test_a_valid_file_still_loads_and_predicts_the_same(estimator_files):
    X = np.random.default_rng(2).normal(size=(10, 3))
    for name in ("clf.crm", "std.crm"):
        model = load(estimator_files / name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert model.predict(X).shape == (10,)


# -- numbers from a file are checked for range (issue 21, point 5) -----------------------------


@pytest.mark.parametrize("beta", [float("nan"), 1e308, float("inf"), -float("inf"), -1e308])
def test_a_sigmoid_beta_out_of_range_is_refused_where_it_is_built(beta):
    with pytest.raises(ValueError, match="beta must be a finite number"):
        cr.Sigmoid(beta=beta)
    with pytest.raises(ValueError, match="beta must be a finite number"):
        cr.Network([2, 3, 1], activation={"name": "sigmoid", "beta": beta})


@pytest.mark.parametrize("beta", [-1.0, 0.0, 25.0])
def test_the_seeds_slider_range_of_beta_is_a_sigmoid(beta):
    """The seed's ``interact(beta=(-1, 25))``: a = 1 / (1 + exp(-beta z)) for each beta."""
    z = np.array([-2.0, 0.0, 0.5])
    expected = 1 / (1 + np.exp(-beta * z))  # exp, +, / each round once: within 4 ulp
    np.testing.assert_allclose(cr.Sigmoid(beta=beta)(z), expected, rtol=4 * np.finfo(float).eps)


@pytest.mark.parametrize("beta", [float("nan"), 1e308])
@pytest.mark.parametrize("version", [1, 2])
def test_a_file_whose_sigmoid_beta_is_out_of_range_is_refused(
    tmp_path, tensors_file, beta, version
):
    bad = {"name": "sigmoid", "beta": beta}
    if version == 1:
        config = cr.Network([3, 4, 2], random_state=16).get_config()
        path = forged_network(tmp_path, config={**config, "activation": [bad]})
    else:
        path = forged_tensors(
            tmp_path, tensors_file, lambda d: _set(d["config"], "activation", [bad])
        )
    with pytest.raises(ModelFormatError, match="beta must be a finite number"):
        load(path)


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("sizes", [[3, 0, 2], [3, -4, 2], [3, 4.0, 2]])
def test_a_file_whose_layer_sizes_are_not_positive_is_refused(
    tmp_path, tensors_file, version, sizes
):
    if version == 1:
        config = cr.Network([3, 4, 2], random_state=16).get_config()
        path = forged_network(tmp_path, config={**config, "layer_sizes": sizes})
    else:
        path = forged_tensors(
            tmp_path, tensors_file, lambda d: _set(d["config"], "layer_sizes", sizes)
        )
    with pytest.raises(ModelFormatError, match="invalid layer_sizes"):
        load(path)
