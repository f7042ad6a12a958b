"""mlflow (docs/mlflow.md): a chainrule model logged with file-based tracking in a temporary
folder, loaded back (sklearn flavor through skops, pyfunc, and chainrule's own file as a pyfunc
artifact) predicts as the model did; what autolog() records and what it does not."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule as cr

pytest.importorskip("mlflow")
import mlflow
import mlflow.pyfunc
import mlflow.sklearn

pytestmark = [
    pytest.mark.slow,  # importing mlflow and logging take seconds
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

PAGE = Path(__file__).resolve().parents[1] / "docs" / "mlflow.md"

#: the requirements of the logged model, given so that log_model does not infer them (which
#: loads the model again in a subprocess)
REQUIREMENTS = ["chainrule"]


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """File-based tracking in a new folder under ``tmp_path`` (mlflow 3 asks for an opt-in to
    its file store, which makes the default experiment in a folder it creates)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    yield tmp_path / "mlruns"
    mlflow.set_tracking_uri(previous)


def iris_models():
    X, y = load_iris(return_X_y=True)
    params = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "max_iter": 50, "random_state": 0}
    clf = cr.MLPClassifier(**params).fit(X, y)
    reg = cr.MLPRegressor(**params).fit(X[:, :2], X[:, 2:])
    return X, clf, reg


def trusted_types(model) -> list[str]:
    """What skops is told to trust: the estimator's own class (its state is plain data)."""
    return [f"{type(model).__module__}.{type(model).__qualname__}"]


def test_log_model_through_skops_and_load_it_back(tracking):
    X, clf, reg = iris_models()
    with mlflow.start_run():
        uris = {
            name: mlflow.sklearn.log_model(
                model,
                name=name,
                serialization_format="skops",
                skops_trusted_types=trusted_types(model),
                pip_requirements=REQUIREMENTS,
            ).model_uri
            for name, model in (("classifier", clf), ("regressor", reg))
        }
    assert any(tracking.rglob("MLmodel"))  # the files are in the temporary folder
    loaded = mlflow.sklearn.load_model(uris["classifier"])
    assert type(loaded) is cr.MLPClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))  # bit for bit
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(uris["classifier"]).predict(X), clf.predict(X)
    )
    regressor = mlflow.pyfunc.load_model(uris["regressor"])
    np.testing.assert_array_equal(regressor.predict(X[:, :2]), reg.predict(X[:, :2]))


def test_skops_refuses_the_model_without_trusted_types(tracking):
    """What docs/mlflow.md warns about: skops trusts scikit-learn's classes, not chainrule's."""
    _, clf, _ = iris_models()
    with (
        mlflow.start_run(),
        pytest.raises(mlflow.exceptions.MlflowException, match="skops_trusted"),
    ):
        mlflow.sklearn.log_model(
            clf, name="model", serialization_format="skops", pip_requirements=REQUIREMENTS
        )


class ChainruleModel(mlflow.pyfunc.PythonModel):
    """A pyfunc over chainrule's own model file (no pickle of the estimator)."""

    def load_context(self, context):
        self.model = cr.load(context.artifacts["model"])

    def predict(self, context, model_input, params=None):
        return self.model.predict(np.asarray(model_input))


def test_chainrules_file_as_a_pyfunc_artifact(tracking, tmp_path):
    X, clf, _ = iris_models()
    clf.save(tmp_path / "iris.crm")
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=ChainruleModel(),
            artifacts={"model": str(tmp_path / "iris.crm")},
            pip_requirements=REQUIREMENTS,
        )
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(info.model_uri).predict(X), clf.predict(X)
    )


def test_autolog_records_scikit_learns_meta_estimators_not_a_bare_chainrule_model(tracking):
    """autolog() patches the fit of scikit-learn's own classes: a bare chainrule fit starts no
    run; a Pipeline holding one is recorded with the chainrule model's parameters."""
    X, y = load_iris(return_X_y=True)
    mlflow.sklearn.autolog(log_models=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cr.MLPClassifier((8,), solver="lbfgs", max_iter=50, random_state=0).fit(X, y)
            assert mlflow.search_runs(search_all_experiments=True, output_format="list") == []
            pipe = make_pipeline(
                StandardScaler(), cr.MLPClassifier((8,), solver="lbfgs", max_iter=50)
            )
            pipe.fit(X, y)
        (run,) = mlflow.search_runs(search_all_experiments=True, output_format="list")
    finally:
        mlflow.sklearn.autolog(disable=True)
    assert run.data.params["mlpclassifier__hidden_layer_sizes"] == "(8,)"
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(pipe.score(X, y))


def test_the_pages_python_runs(tracking, tmp_path, monkeypatch):
    """docs/mlflow.md's Python blocks, in order, in one namespace (its tracking folder in
    ``tmp_path``)."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S):
            exec(compile(block, str(PAGE), "exec"), namespace)
    assert (tmp_path / "mlruns").is_dir()
    assert namespace["run"].data.params["mlpclassifier__hidden_layer_sizes"] == "(16,)"
