"""Loss ONNX ops: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (as F.nll_loss, same weighting rules)."""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node

#: ONNX has no default ignore_index (nothing is ignored); torch's default is -100, so use one no label can be.
_NOTHING_IGNORED = -(2 ** 62)


def _nll(log_probabilities, target, weight, reduction: str, ignore_index: int):
    return F.nll_loss(log_probabilities, target.long(), weight, ignore_index=ignore_index, reduction=reduction)


def _softmax_cross_entropy(scores, labels, weight, reduction: str, ignore_index: int):
    log_probabilities = torch.log_softmax(scores, 1)
    return _nll(log_probabilities, labels, weight, reduction, ignore_index), log_probabilities


def _ignore_index(node: Node) -> int:
    value = node.attrs.get("ignore_index")
    return _NOTHING_IGNORED if value is None else int(value)


@REGISTRY.register("NegativeLogLikelihoodLoss", 12, 13, 22)
def negative_log_likelihood_loss(builder: Builder, node: Node):
    x, target, weight = (builder.inputs(node) + [None])[:3]
    return builder.call(_nll, x, target, weight, node.attrs.get("reduction", "mean"), _ignore_index(node))


@REGISTRY.register("SoftmaxCrossEntropyLoss", 12, 13)
def softmax_cross_entropy_loss(builder: Builder, node: Node):
    scores, labels, weight = (builder.inputs(node) + [None])[:3]
    pair = builder.call(_softmax_cross_entropy, scores, labels, weight, node.attrs.get("reduction", "mean"),
                        _ignore_index(node))
    return [builder.call(operator.getitem, pair, index) for index in range(len(node.outputs))]
