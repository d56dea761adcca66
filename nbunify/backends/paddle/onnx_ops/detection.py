"""Detection converters: NonMaxSuppression (its output's length depends on the data, so it runs on the host)."""

from __future__ import annotations

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY


def _corners(boxes: np.ndarray, center_point_box: bool) -> np.ndarray:
    """Boxes as (x_min, y_min, x_max, y_max) from ONNX's [y1, x1, y2, x2] (corners in any order) or centers."""
    boxes = boxes.astype(np.float64)
    if center_point_box:
        half_width, half_height = boxes[:, 2] / 2, boxes[:, 3] / 2
        return np.stack([boxes[:, 0] - half_width, boxes[:, 1] - half_height, boxes[:, 0] + half_width,
                         boxes[:, 1] + half_height], axis=1)
    return np.stack([np.minimum(boxes[:, 1], boxes[:, 3]), np.minimum(boxes[:, 0], boxes[:, 2]),
                     np.maximum(boxes[:, 1], boxes[:, 3]), np.maximum(boxes[:, 0], boxes[:, 2])], axis=1)


def _suppresses(corners: np.ndarray, kept: list[int], candidate: int, threshold: float) -> bool:
    """Whether a kept box overlaps ``candidate`` by an IoU above ``threshold`` (degenerate boxes never do)."""
    if not kept:
        return False
    others, box = corners[kept], corners[candidate]
    width = np.minimum(others[:, 2], box[2]) - np.maximum(others[:, 0], box[0])
    height = np.minimum(others[:, 3], box[3]) - np.maximum(others[:, 1], box[1])
    intersection = np.where((width > 0) & (height > 0), width * height, 0.0)
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    union = areas + area - intersection
    valid = (intersection > 0) & (areas > 0) & (area > 0) & (union > 0)
    return bool(np.any(valid & (intersection / np.where(valid, union, 1.0) > threshold)))


@REGISTRY.register("NonMaxSuppression", 10, 11)
def non_max_suppression(node, context):
    center_point_box = bool(node.attrs.get("center_point_box", 0))

    def scalar(value, default):
        if value is None:
            return default
        array = np.asarray(value.numpy() if isinstance(value, paddle.Tensor) else value).reshape(-1)
        return array[0] if array.size else default

    def run(boxes, scores, limit=None, iou_threshold=None, score_threshold=None):
        most = max(int(scalar(limit, 0)), 0)
        overlap = float(scalar(iou_threshold, 0.0))
        floor = None if score_threshold is None else float(scalar(score_threshold, 0.0))
        boxes, scores = boxes.numpy(), scores.numpy()
        selected = []
        for batch in range(scores.shape[0]):
            corners = _corners(boxes[batch], center_point_box)
            for kind in range(scores.shape[1]):
                values = scores[batch, kind]
                order = np.lexsort((np.arange(len(values)), -values.astype(np.float64)))  # best first, ties by index
                if floor is not None:
                    order = order[values[order] > floor]
                kept: list[int] = []
                for candidate in order:
                    if len(kept) >= most:
                        break
                    if not _suppresses(corners, kept, int(candidate), overlap):
                        kept.append(int(candidate))
                        selected.append((batch, kind, int(candidate)))
        return paddle.to_tensor(np.array(selected, np.int64).reshape(-1, 3))

    return run
