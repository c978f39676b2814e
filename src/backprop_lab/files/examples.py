"""The example projects shipped in resources/examples.

`example_projects()` builds them from code; `write_examples()` writes them
as the .bplab files that File > Examples and the command line open. A test
checks that the shipped files are what this module builds.
"""

from pathlib import Path

from backprop_lab.engine.network import Network
from backprop_lab.engine.trainer import TrainingSettings
from backprop_lab.files.project import FILE_SUFFIX, Project, save_project
from backprop_lab.resources import resource_path

EXAMPLE_NAMES = ("chain", "xor", "spiral", "digits")


def examples_dir() -> Path:
    return resource_path("examples")


def example_paths() -> dict[str, Path]:
    """Example name -> path of its shipped project file, in lesson order."""
    folder = examples_dir()
    return {name: folder / f"{name}{FILE_SUFFIX}" for name in EXAMPLE_NAMES}


def _chain() -> Project:
    """The lesson's chain: one neuron per layer and a single example."""
    return Project(
        network=Network([1, 1, 1, 1], ["sigmoid"] * 3, seed=1),
        settings=TrainingSettings(
            cost="quadratic", optimizer="sgd", learning_rate=1.0, batch_size=1
        ),
        data={"kind": "chain"},
        name="chain",
    )


def _classifier(name, network: Network, learning_rate, **points) -> Project:
    """A 2-D classification example trained with Adam and cross-entropy.

    points: n_points, noise and test_ratio of the built-in set `name`.
    """
    return Project(
        network=network,
        settings=TrainingSettings(
            cost="cross_entropy",
            optimizer="adam",
            learning_rate=learning_rate,
            batch_size=10,
        ),
        data={"kind": "builtin", "name": name, **points, "seed": 0},
        name=name,
    )


def _xor() -> Project:
    network = Network([2, 2, 1], ["tanh", "sigmoid"], seed=1)
    return _classifier("xor", network, 0.05, n_points=200, noise=0.1, test_ratio=0.5)


def _spiral() -> Project:
    network = Network([2, 8, 8, 1], ["relu", "relu", "sigmoid"], seed=0)
    return _classifier(
        "spiral", network, 0.02, n_points=400, noise=0.05, test_ratio=0.3
    )


def _digits() -> Project:
    return Project(
        network=Network([64, 16, 16, 10], ["relu", "relu", "softmax"], seed=0),
        settings=TrainingSettings(
            cost="cross_entropy", optimizer="adam", learning_rate=0.01, batch_size=32
        ),
        data={"kind": "digits", "test_ratio": 0.3, "seed": 0},
        name="digits",
    )


def example_projects() -> dict[str, Project]:
    """The example projects, freshly built (untrained, seeded)."""
    builders = {"chain": _chain, "xor": _xor, "spiral": _spiral, "digits": _digits}
    return {name: builders[name]() for name in EXAMPLE_NAMES}


def write_examples(folder=None) -> dict[str, Path]:
    """Write every example project to `folder` (the shipped folder by default)."""
    folder = Path(folder) if folder is not None else examples_dir()
    written = {}
    for name, project in example_projects().items():
        path = folder / f"{name}{FILE_SUFFIX}"
        save_project(project, path)
        written[name] = path
    return written
