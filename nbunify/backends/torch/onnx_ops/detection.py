"""Detection ONNX ops: NonMaxSuppression (greedy, per batch and class, in onnxruntime's order)."""

from __future__ import annotations

import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node


def _corners(boxes, center_point_box: int):
    """Boxes as (y1, x1, y2, x2) with y1 <= y2 and x1 <= x2, from either ONNX box format."""
    if center_point_box:
        x_center, y_center, width, height = boxes.unbind(-1)
        return torch.stack([y_center - height / 2, x_center - width / 2, y_center + height / 2,
                            x_center + width / 2], -1)
    y1, x1, y2, x2 = boxes.unbind(-1)
    return torch.stack([torch.minimum(y1, y2), torch.minimum(x1, x2), torch.maximum(y1, y2),
                        torch.maximum(x1, x2)], -1)


def _iou(box, others):
    top, left = torch.maximum(box[0], others[:, 0]), torch.maximum(box[1], others[:, 1])
    bottom, right = torch.minimum(box[2], others[:, 2]), torch.minimum(box[3], others[:, 3])
    intersection = (bottom - top).clamp_min(0) * (right - left).clamp_min(0)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - intersection
    return torch.where(union > 0, intersection / union, torch.zeros_like(union))


def _non_max_suppression(boxes, scores, max_output, iou_threshold, score_threshold, center_point_box: int):
    limit = int(max_output.item()) if max_output is not None and max_output.numel() else 0
    overlap = float(iou_threshold.item()) if iou_threshold is not None and iou_threshold.numel() else 0.0
    floor = float(score_threshold.item()) if score_threshold is not None and score_threshold.numel() else None
    corners = _corners(boxes.double(), center_point_box)
    selected = []
    for batch in range(scores.shape[0]):
        for label in range(scores.shape[1]):
            row = scores[batch, label].double()
            order = torch.sort(row, descending=True, stable=True).indices.tolist()
            kept: list[int] = []
            for index in order:
                if len(kept) >= limit or (floor is not None and row[index] <= floor):
                    break
                if kept and bool((_iou(corners[batch, index], corners[batch, kept]) > overlap).any()):
                    continue
                kept.append(index)
            selected += [[batch, label, index] for index in kept]
    return torch.tensor(selected, dtype=torch.int64).reshape(-1, 3)


@REGISTRY.register("NonMaxSuppression", 11)
def non_max_suppression(builder: Builder, node: Node):
    inputs = [builder.tensor(node.input(index)) for index in range(5)]
    return builder.call(_non_max_suppression, *inputs, int(node.attrs.get("center_point_box", 0)))
