"""The exporter from outside: what it refuses (by the library and the command line), and that
what it writes scores like scikit-learn when read as ARTIFACT.md says (tests/artifact_v2.py).

    python3 -m unittest discover -s protocol/python/tests -v

The round-trip and refusal tests need numpy, scikit-learn and joblib; without them they are
skipped (the import-hygiene test still runs).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest
import warnings

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.append(str(PACKAGE_ROOT))  # after site-packages: an installed mlserve wins

try:
    import joblib
    import numpy as np
    import sklearn  # noqa: F401
    HAVE_SKLEARN = True
except ImportError:
    HAVE_SKLEARN = False


def run_export(*args: str) -> subprocess.CompletedProcess:
    """mlserve-export as a user runs it, from the same copy of the package these tests import."""
    import mlserve

    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(mlserve.__file__).resolve().parent.parent))
    return subprocess.run([sys.executable, "-m", "mlserve.export", *args], capture_output=True, text=True,
                          env=env, timeout=300)


class ImportHygieneTests(unittest.TestCase):
    def test_client_and_exporter_import_without_numpy_or_sklearn(self) -> None:
        code = ("import sys, mlserve_client, mlserve.export; "
                "bad = [m for m in ('numpy', 'sklearn', 'joblib') if m in sys.modules]; "
                "print(bad); sys.exit(1 if bad else 0)")
        env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


@unittest.skipUnless(HAVE_SKLEARN, "needs numpy, scikit-learn and joblib")
class ExportTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        from sklearn.datasets import load_breast_cancer

        x, y = load_breast_cancer(return_X_y=True)
        cls.x = x.astype(np.float32)
        cls.y = y
        rng = np.random.default_rng(7)
        cls.x_missing = cls.x.copy()
        cls.x_missing[rng.random(cls.x.shape) < 0.1] = np.nan
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = pathlib.Path(cls.tmp.name)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def fitted(self, estimator, x=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return estimator.fit(self.x if x is None else x, self.y)

    def assert_refused(self, estimator, *words: str, reference=None) -> str:
        from mlserve.export import to_artifact
        from mlserve.model import UnsupportedModel

        path = self.dir / "refused.mlart"
        with self.assertRaises(UnsupportedModel) as caught:
            to_artifact(estimator, str(path), version="v1", reference=reference)
        message = str(caught.exception)
        for word in words:
            self.assertIn(word, message)
        self.assertFalse(path.exists(), "a refused export must leave no file")
        return message

    # -- refusals -------------------------------------------------------------------------------

    def test_refuses_an_unsupported_estimator_naming_it(self) -> None:
        from sklearn.ensemble import GradientBoostingClassifier

        self.assert_refused(self.fitted(GradientBoostingClassifier(n_estimators=3)), "GradientBoostingClassifier",
                            "not supported")

    def test_refuses_an_unsupported_pipeline_step_naming_it(self) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import MinMaxScaler

        self.assert_refused(self.fitted(make_pipeline(MinMaxScaler(), LogisticRegression())), "minmaxscaler",
                            "MinMaxScaler", "StandardScaler, SimpleImputer")

    def test_refuses_a_multiclass_classifier(self) -> None:
        from sklearn.linear_model import LogisticRegression

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator = LogisticRegression(max_iter=200).fit(self.x, self.y + (self.x[:, 0] > 15))
        self.assert_refused(estimator, "3 classes", "binary")

    def test_refuses_an_identity_mlp(self) -> None:
        from sklearn.neural_network import MLPClassifier

        estimator = self.fitted(MLPClassifier((4,), activation="identity", max_iter=5))
        self.assert_refused(estimator, "activation 'identity'", "relu, tanh, logistic")

    def test_refuses_an_unfitted_estimator(self) -> None:
        from sklearn.ensemble import RandomForestClassifier

        self.assert_refused(RandomForestClassifier(), "not fitted")

    def test_refuses_imputers_it_cannot_reproduce(self) -> None:
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        with_indicator = self.fitted(make_pipeline(SimpleImputer(add_indicator=True), LogisticRegression()),
                                     self.x_missing)
        self.assert_refused(with_indicator, "add_indicator")
        zero_marks = self.fitted(make_pipeline(SimpleImputer(missing_values=0.0), LogisticRegression()))
        self.assert_refused(zero_marks, "missing_values=0.0", "NaN")

    def test_refuses_missing_reference_values_for_a_model_without_missing_support(self) -> None:
        from sklearn.linear_model import LogisticRegression

        estimator = self.fitted(LogisticRegression(max_iter=3000))
        self.assert_refused(estimator, "missing (NaN)", "SimpleImputer", reference=self.x_missing)

    def test_refuses_reference_rows_of_the_wrong_width(self) -> None:
        from sklearn.ensemble import IsolationForest

        estimator = self.fitted(IsolationForest(n_estimators=5, random_state=0))
        self.assert_refused(estimator, "30 features", reference=self.x[:, :29])

    def test_command_line_refusal_exits_2_naming_the_estimator(self) -> None:
        from sklearn.svm import SVC

        model = self.dir / "svc.joblib"
        joblib.dump(self.fitted(SVC()), model)
        result = run_export(str(model), str(self.dir / "svc.mlart"))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("SVC", result.stderr)
        self.assertFalse((self.dir / "svc.mlart").exists())

    def test_command_line_refuses_a_file_that_is_not_a_model(self) -> None:
        junk = self.dir / "junk.joblib"
        junk.write_bytes(b"not a pickle at all")
        result = run_export(str(junk), str(self.dir / "junk.mlart"))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("junk.joblib", result.stderr)
        missing = run_export(str(self.dir / "absent.joblib"), str(self.dir / "absent.mlart"))
        self.assertEqual(missing.returncode, 1, missing.stderr)

    # -- round trips ----------------------------------------------------------------------------

    def round_trip(self, estimator, x, name: str):
        import artifact_v2
        from mlserve.export import to_artifact
        from mlserve.sklearn_reader import read, reference_outputs

        path = self.dir / f"{name}.mlart"
        summary = to_artifact(estimator, str(path), version=name, reference=x)
        art = artifact_v2.parse(str(path))
        expected, expected_labels = reference_outputs(estimator, x, read(estimator))
        scores = artifact_v2.scores(art, x).astype(np.float32).astype(np.float64)
        self.assertLessEqual(float(np.max(np.abs(scores - expected))), 1e-6, name)
        self.assertEqual(int(np.sum(artifact_v2.labels(art, scores) != expected_labels)), 0, name)
        self.assertEqual(summary["checksum"], art["checksum"])
        self.assertEqual(len(art["golden"]["rows"]), 64)
        self.assertAlmostEqual(float(np.sum(art["histogram"])), 1.0, places=5)
        self.assertEqual(art["version"], name)
        return art

    def test_pipelines_round_trip(self) -> None:
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        cases = {
            "logistic": (make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), self.x, False),
            "mlp-relu": (make_pipeline(StandardScaler(), MLPClassifier((16, 8), max_iter=300, random_state=0)),
                         self.x, False),
            "mlp-tanh": (make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                       MLPClassifier((16,), activation="tanh", max_iter=300, random_state=0)),
                         self.x_missing, True),
            "mlp-logistic": (make_pipeline(SimpleImputer(strategy="constant", fill_value=-1.0), StandardScaler(),
                                           MLPClassifier((8,), activation="logistic", max_iter=300, random_state=0)),
                             self.x_missing, True),
        }
        for name, (estimator, x, missing) in cases.items():
            with self.subTest(name):
                art = self.round_trip(self.fitted(estimator, x), x, name)
                self.assertEqual(art["accepts_missing"], missing)

    def test_scaler_step_is_standard_scaler_bit_for_bit(self) -> None:
        # The node's scale arithmetic (ARTIFACT.md §13) on what the exporter writes gives exactly
        # StandardScaler.transform's float32 values, whichever precision this scikit-learn uses.
        import artifact_v2
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from mlserve.export import to_artifact

        rng = np.random.default_rng(4)
        x64 = rng.normal(3.0, [0.01, 1.0, 7.0, 300.0, 1e-3, 5e4], size=(4000, 6))
        y = (x64[:, 1] > 0).astype(int)
        estimator = make_pipeline(StandardScaler(), LogisticRegression()).fit(x64, y)
        rows = x64.astype(np.float32)
        path = self.dir / "scaler.mlart"
        to_artifact(estimator, str(path), version="scaler", reference=rows[:64])
        (_, mean, scale), = artifact_v2.parse(str(path))["steps"]
        node = artifact_v2._f32(artifact_v2._f32(rows.astype(np.float64) - mean).astype(np.float64) / scale)
        self.assertTrue(np.array_equal(node, estimator[0].transform(rows)))

    def test_forests_round_trip_with_missing_values(self) -> None:
        from sklearn.ensemble import IsolationForest, RandomForestClassifier

        cases = {
            "forest": RandomForestClassifier(n_estimators=20, random_state=0),
            "isolation": IsolationForest(n_estimators=50, random_state=0),
            "isolation-subsets": IsolationForest(n_estimators=50, max_features=0.5, max_samples=100,
                                                 contamination=0.05, random_state=0),
        }
        for name, estimator in cases.items():
            with self.subTest(name):
                art = self.round_trip(self.fitted(estimator, self.x_missing), self.x_missing, name)
                self.assertTrue(art["accepts_missing"])
                self.assertEqual(art["kind"], 3)

    def test_isolation_forest_threshold_and_score_follow_offset(self) -> None:
        import artifact_v2
        from sklearn.ensemble import IsolationForest
        from mlserve.export import to_artifact

        estimator = self.fitted(IsolationForest(n_estimators=30, contamination=0.1, random_state=0))
        path = self.dir / "offset.mlart"
        to_artifact(estimator, str(path), version="offset", reference=self.x)
        art = artifact_v2.parse(str(path))
        self.assertGreater(art["threshold"], -estimator.offset_)
        self.assertLess(art["threshold"] - (-estimator.offset_), 1e-7)
        scores = artifact_v2.scores(art, self.x)
        decision = estimator.decision_function(self.x)
        np.testing.assert_allclose(-scores - estimator.offset_, decision, atol=1e-6)

    def test_command_line_reads_a_csv_reference_with_feature_names(self) -> None:
        import artifact_v2
        from sklearn.ensemble import RandomForestClassifier

        model = self.dir / "rf.joblib"
        joblib.dump(self.fitted(RandomForestClassifier(n_estimators=5, random_state=0), self.x_missing), model)
        csv_path = self.dir / "reference.csv"
        names = [f"f{i}" for i in range(self.x.shape[1])]
        lines = [",".join(names)] + [",".join("" if np.isnan(v) else repr(float(v)) for v in row)
                                     for row in self.x_missing[:200]]
        csv_path.write_text("\n".join(lines) + "\n")
        out = self.dir / "rf-v7.mlart"
        result = run_export(str(model), str(out), "--reference", str(csv_path), "--name", "cancer")
        self.assertEqual(result.returncode, 0, result.stderr)
        art = artifact_v2.parse(str(out))
        self.assertEqual((art["name"], art["version"]), ("cancer", "rf-v7"))
        self.assertEqual(art["feature_names"], names)
        self.assertTrue(np.isnan(art["golden"]["rows"]).any())
        self.assertIn(art["checksum"], result.stdout)


if __name__ == "__main__":
    unittest.main()
