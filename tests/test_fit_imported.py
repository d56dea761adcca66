"""nu.fit fine-tunes models nu.from_onnx made, in each framework, like models nu.build made."""

from __future__ import annotations

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.backends import NotBuiltByNbunifyError


def softmax_cnn() -> nu.Sequential:
    return nu.Sequential([L.Conv2d(4, 3, padding=1, activation="relu"), L.MaxPool2d(2), L.Flatten(),
                          L.Dense(10, activation="softmax")], input_shape=(1, 8, 8), name="cnn")


@pytest.fixture(scope="module")
def exported():
    """A digits CNN ending in softmax, exported from torch with fresh (untrained) weights."""
    return nu.to_onnx(nu.build(softmax_cnn(), "torch", seed=0))


@pytest.mark.parametrize("framework", ["torch", "keras", "paddle"])
def test_an_imported_model_fine_tunes_with_nu_fit_and_resumes(exported, framework, tmp_path):
    model = nu.from_onnx(exported, framework)
    data = nu.data.load("digits", seed=0)
    before = float(np.mean(nu.predict(model, data.x_val).argmax(1) == data.y_val))
    run = nu.fit(model, data, epochs=3, optimizer="adam", lr=1e-2, batch_size=64, store=tmp_path, live=False)
    assert run.status == "finished" and run.framework == framework and run.steps_done == 3 * 23
    assert run.parameters == 4 * 9 + 4 + 64 * 10 + 10  # the graph's float initializers
    after = float(np.mean(nu.predict(model, data.x_val).argmax(1) == data.y_val))
    assert run.final("val_accuracy") == pytest.approx(after, abs=1e-9)  # the model itself was trained
    assert after > 0.8 > before  # from chance to a trained classifier
    assert run.final("loss") < run.history("loss")[1][0]
    # The ONNX graph ends in Softmax: the loss took probabilities (log of the clipped softmax), not logits.
    assert run.history("loss")[1][0] == pytest.approx(np.log(10), abs=0.15)
    again = nu.fit(nu.from_onnx(exported, framework), resume=run.id, epochs=4, store=tmp_path, live=False)
    assert again.epochs_done == 4 and again.final("val_accuracy") > 0.8


def test_an_imported_graph_nu_fit_cannot_train_is_refused_clearly(tmp_path):
    from onnx import TensorProto, helper

    two_outputs = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Neg", ["x"], ["b"])], "two",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [None, 4])])
    model = nu.from_onnx(helper.make_model(two_outputs, opset_imports=[helper.make_opsetid("", 17)]), "torch")
    with pytest.raises(ValueError, match=r"one input and one output; this imported graph has 1 input\(s\) and 2"):
        nu.fit(model, (np.zeros((8, 4), np.float32), np.zeros(8, np.int64)), epochs=1, store=tmp_path, live=False)


def test_a_foreign_native_model_is_still_refused(tmp_path):
    import torch

    with pytest.raises(NotBuiltByNbunifyError, match="was not built by nbunify"):
        nu.fit(torch.nn.Linear(64, 10), "digits", epochs=1, store=tmp_path, live=False)
