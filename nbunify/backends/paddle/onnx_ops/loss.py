"""Loss converters: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reductions none/sum/mean, ignore_index)."""

from __future__ import annotations

import paddle
import paddle.nn.functional as F

from nbunify.backends.paddle.onnx_ops.common import REGISTRY


def negative_log_likelihood(log_probabilities, target, weight, reduction, ignore_index):
    """ONNX's NLL: -input[n, target[n, ...], ...] * weight[target], ignored targets weigh 0."""
    target = target.astype("int64")
    keep = target != ignore_index if ignore_index is not None else paddle.ones(target.shape, "bool")
    safe = paddle.where(keep, target, paddle.zeros_like(target))
    picked = paddle.take_along_axis(log_probabilities, safe.unsqueeze(1), 1).squeeze(1)
    weights = keep.astype(log_probabilities.dtype)
    if weight is not None:
        weights = weights * paddle.gather(weight, safe.reshape([-1])).reshape(safe.shape)
    loss = -picked * weights
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weights.sum()


def _ignore_index(node):
    value = node.attrs.get("ignore_index")
    return None if value is None else int(value)


@REGISTRY.register("NegativeLogLikelihoodLoss", 12, 13, 22)
def nll_loss(node, context):
    reduction, ignore_index = node.attrs.get("reduction", "mean"), _ignore_index(node)
    return lambda scores, target, weight=None: negative_log_likelihood(scores, target, weight, reduction, ignore_index)


@REGISTRY.register("SoftmaxCrossEntropyLoss", 12, 13)
def softmax_cross_entropy(node, context):
    reduction, ignore_index = node.attrs.get("reduction", "mean"), _ignore_index(node)
    with_log_probabilities = len(node.outputs) > 1 and bool(node.outputs[1])

    def run(scores, labels, weight=None):
        log_probabilities = F.log_softmax(scores, axis=1)
        loss = negative_log_likelihood(log_probabilities, labels, weight, reduction, ignore_index)
        return (loss, log_probabilities) if with_log_probabilities else loss

    return run
