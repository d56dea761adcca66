"""Small synthetic datasets generated with numpy from the seed: classification, regression, images."""

from __future__ import annotations

import numpy as np

from nbunify.data.dataset import Dataset
from nbunify.data.split import make_dataset

_GENERATION_STREAM = 10  # keeps generation apart from the split and batch-order streams
SHAPES = ("horizontal", "vertical", "diagonal", "square", "cross", "anti-diagonal")


def _generator(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, _GENERATION_STREAM])


def _balanced_labels(generator: np.random.Generator, n_samples: int, n_classes: int) -> np.ndarray:
    return generator.permutation(np.arange(n_samples) % n_classes)


def _check_sizes(name: str, **sizes: int) -> None:
    for label, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: {label} must be a whole number >= 1, got {value!r}.")


def classification(
    *, validation: float, seed: int, n_samples: int = 1000, n_features: int = 20, n_classes: int = 3, noise: float = 1.0
) -> Dataset:
    """Gaussian blobs: ``n_samples`` x ``n_features`` float32 (default 1000 x 20), ``n_classes`` balanced classes.

    Each class is a normal cloud of standard deviation ``noise`` around a centre drawn from
    N(0, 1.5^2) per feature; the same seed gives the same data.
    """
    _check_sizes("synthetic-classification", n_samples=n_samples, n_features=n_features, n_classes=n_classes)
    generator = _generator(seed)
    centres = generator.normal(0.0, 1.5, size=(n_classes, n_features))
    y = _balanced_labels(generator, n_samples, n_classes)
    x = centres[y] + generator.normal(0.0, noise, size=(n_samples, n_features))
    classes = tuple(f"class {index}" for index in range(n_classes))
    return make_dataset(
        "synthetic-classification", x.astype(np.float32), y, validation=validation, seed=seed, classes=classes
    )


def regression(
    *, validation: float, seed: int, n_samples: int = 1000, n_features: int = 10, n_targets: int = 1, noise: float = 0.1
) -> Dataset:
    """A noisy linear map: ``x`` ~ N(0, 1) of shape (1000, 10), ``y = x @ w + noise * N(0, 1)`` of shape (1000, 1)."""
    _check_sizes("synthetic-regression", n_samples=n_samples, n_features=n_features, n_targets=n_targets)
    generator = _generator(seed)
    weights = generator.normal(0.0, 1.0, size=(n_features, n_targets)) / np.sqrt(n_features)
    x = generator.normal(0.0, 1.0, size=(n_samples, n_features))
    y = x @ weights + generator.normal(0.0, noise, size=(n_samples, n_targets))
    return make_dataset(
        "synthetic-regression", x.astype(np.float32), y.astype(np.float32), validation=validation, seed=seed,
        task="regression",
    )  # fmt: skip


def images(
    *,
    validation: float,
    seed: int,
    n_samples: int = 600,
    image_size: int = 16,
    channels: int = 1,
    n_classes: int = 4,
    noise: float = 0.1,
) -> Dataset:
    """Shapes on noise: 600 float32 images 1x16x16 in [0, 1], 4 classes (up to 6, see SHAPES).

    Class k draws ``SHAPES[k]`` (a horizontal bar, a vertical bar, a diagonal, a filled
    square, a cross, an anti-diagonal) at a random position, with a random intensity per
    channel, plus Gaussian noise of standard deviation ``noise``; a small CNN learns it in an epoch or two.
    """
    _check_sizes("synthetic-images", n_samples=n_samples, image_size=image_size, channels=channels, n_classes=n_classes)
    if n_classes > len(SHAPES) or image_size < 6:
        raise ValueError(
            f"synthetic-images draws up to {len(SHAPES)} classes on images of at least 6x6 pixels; got "
            f"n_classes={n_classes}, image_size={image_size}."
        )
    generator = _generator(seed)
    y = _balanced_labels(generator, n_samples, n_classes)
    x = np.empty((n_samples, channels, image_size, image_size), dtype=np.float32)
    for index, label in enumerate(y):
        mask = _draw(SHAPES[label], image_size, generator)
        intensity = generator.uniform(0.6, 1.0, size=(channels, 1, 1))
        x[index] = mask[None] * intensity + generator.normal(0.0, noise, size=(channels, image_size, image_size))
    np.clip(x, 0.0, 1.0, out=x)
    return make_dataset(
        "synthetic-images", x, y, validation=validation, seed=seed, classes=SHAPES[:n_classes]
    )


def _draw(shape: str, size: int, generator: np.random.Generator) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.float32)
    margin = size // 4
    row, column = generator.integers(margin, size - margin, size=2)
    if shape == "horizontal":
        mask[row, margin // 2 : size - margin // 2] = 1
    elif shape == "vertical":
        mask[margin // 2 : size - margin // 2, column] = 1
    elif shape in ("diagonal", "anti-diagonal"):
        offset = int(generator.integers(-margin, margin + 1))
        indices = np.arange(size)
        keep = (indices + offset >= 0) & (indices + offset < size)
        mask[indices[keep], (indices + offset)[keep]] = 1
        if shape == "anti-diagonal":
            mask = mask[:, ::-1].copy()
    elif shape == "square":
        side = max(2, size // 3)
        top, left = generator.integers(0, size - side + 1, size=2)
        mask[top : top + side, left : left + side] = 1
    else:  # cross
        arm = max(1, size // 5)
        mask[row, max(0, column - arm) : column + arm + 1] = 1
        mask[max(0, row - arm) : row + arm + 1, column] = 1
    return mask
