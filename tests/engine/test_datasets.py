"""The data sets: built-in 2-D sets, digits, the chain and CSV files."""

import numpy as np
import pytest

from backprop_lab.engine import BUILTIN_SETS, DataError, load_csv, make_dataset
from backprop_lab.engine.datasets import CLASSIFICATION_SETS


def _builtin(name, **values):
    return make_dataset({"kind": "builtin", "name": name, **values})


@pytest.mark.parametrize("name", BUILTIN_SETS)
def test_builtin_sets_are_deterministic_by_seed(name):
    first, again = _builtin(name, seed=3), _builtin(name, seed=3)
    other = _builtin(name, seed=4)
    assert np.array_equal(first.X_train, again.X_train)
    assert np.array_equal(first.Y_test, again.Y_test)
    assert not np.array_equal(first.X_train, other.X_train)


@pytest.mark.parametrize("name", BUILTIN_SETS)
def test_builtin_sets_have_the_promised_shapes_and_ranges(name):
    data = _builtin(name, n_points=300, noise=0.05, test_ratio=0.2)
    assert len(data.X_train) == 240 and len(data.X_test) == 60
    assert data.n_inputs == 2 and data.n_outputs == 1
    assert np.abs(data.X_train).max() < 1.5
    if name in CLASSIFICATION_SETS:
        assert data.task == "classification" and data.n_classes == 2
        assert set(np.unique(data.Y_train)) == {0.0, 1.0}
    else:
        assert data.task == "regression" and data.n_classes is None
    assert data.source["n_points"] == 300


def test_noise_moves_the_points():
    calm, noisy = _builtin("circle", noise=0.0), _builtin("circle", noise=0.5)
    assert np.abs(calm.X_train).max() < 0.84
    assert np.abs(noisy.X_train).max() > 0.9


def test_the_source_dict_makes_the_same_set_again():
    data = _builtin("spiral", n_points=50)
    again = make_dataset(data.source)
    assert np.array_equal(data.X_train, again.X_train)


def test_digits_come_from_the_shipped_file():
    data = make_dataset({"kind": "digits", "test_ratio": 0.3, "seed": 1})
    assert len(data.X_train) + len(data.X_test) == 1797
    assert data.n_inputs == 64 and data.n_outputs == 10 and data.n_classes == 10
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    assert np.array_equal(data.Y_train.sum(axis=1), np.ones(len(data.Y_train)))


def test_the_chain_is_one_example_with_one_input_and_one_target():
    data = make_dataset({"kind": "chain"})
    assert data.X_train.shape == (1, 1) and data.Y_train.shape == (1, 1)
    assert data.X_train[0, 0] == 1.0 and data.Y_train[0, 0] == 0.0
    assert len(data.X_test) == 0


@pytest.mark.parametrize(
    "source, words",
    [
        ({"name": "circle"}, "kind"),
        ({"kind": "builtin", "name": "moons"}, "unknown data set"),
        ({"kind": "builtin", "name": "xor", "n_points": 1}, "n_points"),
        ({"kind": "builtin", "name": "xor", "noise": -1}, "noise"),
        ({"kind": "builtin", "name": "xor", "test_ratio": 1.0}, "test_ratio"),
        ({"kind": "builtin", "name": "xor", "colour": 1}, "unknown key"),
        ({"kind": "tape"}, "unknown kind"),
    ],
)
def test_bad_sources_are_refused_with_a_sentence(source, words):
    with pytest.raises(DataError, match=words):
        make_dataset(source)


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_regression_standardises_inputs(tmp_path):
    rows = "\n".join(f"{i},{2 * i},{i % 3},{i * 0.5}" for i in range(20))
    path = _write(tmp_path, "a,b,c,y\n" + rows + "\n")
    data = load_csv(path, ["a", 2], ["y"], "regression", test_ratio=0.25)
    assert data.n_inputs == 2 and data.n_outputs == 1
    assert len(data.X_train) == 15 and data.feature_names == ("a", "c")
    assert np.allclose(data.X_train.mean(axis=0), 0.0)
    assert np.allclose(data.X_train.std(axis=0), 1.0)
    assert np.allclose(
        np.sort(np.concatenate([data.Y_train, data.Y_test])[:, 0]),
        np.arange(20) * 0.5,
    )


def test_csv_classification_labels_become_one_hot(tmp_path):
    lines = ["x;kind"] + [f"{i};{'cat' if i % 2 else 'dog'}" for i in range(10)]
    path = _write(tmp_path, "\n".join(lines))
    data = load_csv(path, [0], "kind", "classification", test_ratio=0.0)
    assert data.class_names == ("cat", "dog") and data.n_classes == 2
    assert data.Y_train.shape == (10, 2)
    assert np.array_equal(data.Y_train.sum(axis=1), np.ones(10))


def test_csv_through_a_source_dict_relative_to_a_folder(tmp_path):
    _write(tmp_path, "x,y\n1,2\n2,4\n3,6\n")
    source = {"kind": "csv", "path": "data.csv", "inputs": ["x"], "targets": ["y"]}
    data = make_dataset(source, base_dir=tmp_path)
    assert data.source["path"] == "data.csv"
    assert len(data.X_train) + len(data.X_test) == 3


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "line 1: the file is empty"),
        ("x,y\n1,2\n3\n", "line 3: 1 values where the header has 2 columns"),
        ("x,y\n1,2\nabc,4\n", "line 3: column 'x' holds 'abc', not a number"),
        ("x,y\n1,2\n,4\n", "line 3: column 'x' is empty"),
        ("x,y\n", "line 2: there are no data rows"),
        ("x,z\n1,2\n", "line 1: there is no target column 'y'"),
        ("x,y\n1,nan\n", "line 2: column 'y' holds 'nan', which is not a finite"),
        ("x,y\n1e999,2\n", "line 2: column 'x' holds '1e999', which is not a"),
        ("x,y,x\n1,2,3\n", "line 1: the header names 'x' 2 times"),
    ],
)
def test_csv_errors_name_the_file_the_line_and_the_problem(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=words) as caught:
        load_csv(path, ["x"], ["y"], "regression")
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_csv_file_is_named(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_csv(tmp_path / "gone.csv", [0], [1], "regression")


def test_an_unknown_column_names_the_header_line_after_blank_lines(tmp_path):
    path = _write(tmp_path, "\n\nx,y\n1,2\n")
    with pytest.raises(DataError, match="line 3: there is no input column 'z'"):
        load_csv(path, ["z"], ["y"], "regression")


def test_csv_columns_may_be_one_name_or_index_instead_of_a_list(tmp_path):
    _write(tmp_path, "x,y\n1,2\n2,4\n3,6\n")
    source = {"kind": "csv", "path": "data.csv", "inputs": "x", "targets": 1}
    data = make_dataset(source, base_dir=tmp_path)
    assert data.n_inputs == 1 and data.n_outputs == 1
    assert data.source["inputs"] == ["x"] and data.source["targets"] == [1]


@pytest.mark.parametrize("kind", ["builtin", "digits"])
def test_a_test_ratio_of_one_is_refused_because_no_row_would_train(kind):
    source = {"kind": kind, "test_ratio": 1.0}
    if kind == "builtin":
        source["name"] = "xor"
    with pytest.raises(DataError, match="some rows must be left for training"):
        make_dataset(source)


def test_a_test_ratio_close_to_one_still_leaves_a_training_row():
    data = _builtin("xor", n_points=10, test_ratio=0.99)
    assert len(data.X_train) == 1 and len(data.X_test) == 9


def test_a_csv_with_one_row_trains_on_that_row(tmp_path):
    from backprop_lab.engine import Network, Trainer, TrainingSettings

    path = _write(tmp_path, "x,y\n3,2\n")
    data = load_csv(path, ["x"], ["y"], "regression")
    assert data.X_train.shape == (1, 1) and len(data.X_test) == 0
    # one row has no spread: its standardised input is 0, never NaN
    assert data.X_train[0, 0] == 0.0 and data.Y_train[0, 0] == 2.0
    net = Network([1, 1], ["linear"])
    trainer = Trainer.from_settings(net, data, TrainingSettings(learning_rate=0.1))
    trainer.step(100)
    assert net.predict(data.X_train)[0, 0] == pytest.approx(2.0, abs=1e-6)


def test_the_digits_and_csv_splits_are_deterministic_by_seed(tmp_path):
    def digits(seed):
        return make_dataset({"kind": "digits", "test_ratio": 0.3, "seed": seed})

    assert np.array_equal(digits(5).X_test, digits(5).X_test)
    assert not np.array_equal(digits(5).X_test, digits(6).X_test)
    rows = "\n".join(f"{i},{i * i}" for i in range(30))
    path = _write(tmp_path, "x,y\n" + rows + "\n")

    def csv(seed):
        return load_csv(path, ["x"], ["y"], "regression", test_ratio=0.3, seed=seed)

    assert np.array_equal(csv(1).Y_test, csv(1).Y_test)
    assert not np.array_equal(csv(1).Y_test, csv(2).Y_test)


@pytest.mark.parametrize(
    "inputs, targets, words",
    [
        (["x"], ["x"], "column 'x' is both an input and a target"),
        ([0, "y"], [1], "column 'y' is both an input and a target"),
        ([-1], ["y"], "there is no input column -1"),
    ],
)
def test_csv_columns_must_exist_and_keep_inputs_and_targets_apart(
    tmp_path, inputs, targets, words
):
    path = _write(tmp_path, "x,y\n1,2\n3,4\n")
    with pytest.raises(DataError, match=words):
        load_csv(path, inputs, targets, "regression")
