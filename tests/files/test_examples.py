"""The shipped example projects: up to date, loadable, and they learn."""

import pytest

from backprop_lab.engine.trainer import Trainer
from backprop_lab.files.examples import EXAMPLE_NAMES, example_paths, write_examples
from backprop_lab.files.project import load_project


def test_every_example_is_shipped():
    paths = example_paths()
    assert tuple(paths) == ("chain", "xor", "spiral", "digits") == EXAMPLE_NAMES
    assert all(path.is_file() for path in paths.values())


def test_the_shipped_examples_are_what_the_code_builds(tmp_path):
    fresh = write_examples(tmp_path)
    for name, path in example_paths().items():
        assert path.read_bytes() == fresh[name].read_bytes(), (
            f"{path.name} is out of date: run "
            "backprop_lab.files.examples.write_examples()"
        )


@pytest.mark.parametrize(
    "name, sizes, activations",
    [
        ("chain", [1, 1, 1, 1], ["sigmoid"] * 3),
        ("xor", [2, 2, 1], ["tanh", "sigmoid"]),
        ("spiral", [2, 8, 8, 1], ["relu", "relu", "sigmoid"]),
        ("digits", [64, 16, 16, 10], ["relu", "relu", "softmax"]),
    ],
)
def test_each_example_loads_with_its_architecture(name, sizes, activations):
    project = load_project(example_paths()[name])
    assert project.network.sizes == sizes
    assert project.network.activations == activations
    assert project.name == name
    assert project.history is None


@pytest.mark.parametrize("name, steps", [("chain", 50), ("xor", 300), ("spiral", 1800),
                                         ("digits", 60)])  # fmt: skip
def test_each_example_learns_from_its_data(name, steps):
    project = load_project(example_paths()[name])
    trainer = Trainer.from_settings(project.network, project.dataset, project.settings)
    before = trainer.train_cost
    trainer.step(steps)
    assert trainer.diverged is None
    assert trainer.train_cost < 0.8 * before


def test_the_chain_example_is_the_lessons_single_example():
    project = load_project(example_paths()["chain"])
    assert len(project.dataset.X_train) == 1
    assert project.settings.cost == "quadratic"


def test_the_digits_example_uses_softmax_with_cross_entropy():
    project = load_project(example_paths()["digits"])
    assert project.settings.cost == "cross_entropy"
    assert project.dataset.n_outputs == 10
