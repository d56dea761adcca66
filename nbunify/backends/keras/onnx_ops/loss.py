"""Loss ONNX ops: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (weights, ignore_index, reductions)."""

from __future__ import annotations

from typing import Any

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf


def negative_log_likelihood(log_probabilities: Any, target: Any, weight: Any, settings: dict) -> Any:
    """ONNX NLL: -input[n, target[n, ...], ...] * weight[target], ignored targets count neither loss nor weight."""
    target = tf.cast(target, tf.int64)
    ignore = settings.get("ignore_index")
    kept = tf.ones_like(target, tf.bool) if ignore is None else tf.not_equal(target, ignore)
    safe = tf.where(kept, target, tf.zeros_like(target))  # ignored targets may lie outside [0, C)
    picked = tf.squeeze(tf.experimental.numpy.take_along_axis(log_probabilities, tf.expand_dims(safe, 1), axis=1), 1)
    weights = tf.ones_like(picked) if weight is None else tf.gather(weight, safe)
    weights = tf.where(kept, weights, tf.zeros_like(weights))
    loss = -picked * weights
    reduction = settings.get("reduction", "mean")
    if reduction == "none":
        return loss
    if reduction == "sum":
        return tf.reduce_sum(loss)
    return tf.reduce_sum(loss) / tf.reduce_sum(weights)


@keras.saving.register_keras_serializable(package="nbunify")
class NegativeLogLikelihood(SettingsLayer):
    def call(self, log_probabilities, target, weight=None):
        return negative_log_likelihood(log_probabilities, target, weight, self.settings)


@keras.saving.register_keras_serializable(package="nbunify")
class SoftmaxCrossEntropy(SettingsLayer):
    def call(self, scores, labels, weight=None):
        log_probabilities = tf.nn.log_softmax(scores, axis=1)
        return negative_log_likelihood(log_probabilities, labels, weight, self.settings), log_probabilities


def _settings(node: Any) -> dict:
    settings = {"reduction": node.attrs.get("reduction", "mean")}
    if node.attrs.get("ignore_index") is not None:
        settings["ignore_index"] = int(node.attrs["ignore_index"])
    return settings


@REGISTRY.register("NegativeLogLikelihoodLoss", 12, 13, 22)
def negative_log_likelihood_loss(context: Context, node: Any) -> Any:
    operands = [context.symbolic(name) for name in node.inputs if name]
    return NegativeLogLikelihood(_settings(node), name=context.layer_name(node.op_type))(*operands)


@REGISTRY.register("SoftmaxCrossEntropyLoss", 12, 13)
def softmax_cross_entropy_loss(context: Context, node: Any) -> Any:
    operands = [context.symbolic(name) for name in node.inputs if name]
    loss, log_probabilities = SoftmaxCrossEntropy(_settings(node), name=context.layer_name(node.op_type))(*operands)
    return [loss, log_probabilities]
