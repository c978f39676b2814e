"""The engine's public names, as the rest of the app and people's scripts use them."""

import backprop_lab.engine as engine
import backprop_lab.engine.edits as edits_module

PUBLIC = (
    "Network Gradients Trainer TrainingSettings CostHistory Dataset make_dataset "
    "load_csv DataError EditError gradient_check parameter_check BUILTIN_SETS "
    "ACTIVATIONS COSTS OPTIMIZERS edits"
).split()
EDITS = (
    "insert_layer remove_layer add_neuron remove_neuron remove_connection "
    "restore_connection set_weight set_bias set_activation set_input_size "
    "set_output_size"
).split()


def test_every_public_name_is_exported():
    for name in PUBLIC + EDITS:
        assert hasattr(engine, name), name
        assert name in engine.__all__, name


def test_edit_functions_are_the_same_from_both_places():
    for name in EDITS:
        assert getattr(engine, name) is getattr(edits_module, name)
    assert engine.EditError is edits_module.EditError


def test_errors_are_value_errors():
    assert issubclass(engine.DataError, ValueError)
    assert issubclass(engine.EditError, ValueError)


def test_the_names_of_sets_optimizers_and_costs():
    assert engine.BUILTIN_SETS == (
        "circle", "xor", "gaussians", "spiral", "plane", "multi_gaussian"
    )  # fmt: skip
    assert engine.OPTIMIZERS == ("sgd", "momentum", "adam")
    assert engine.COSTS == ("quadratic", "cross_entropy")
