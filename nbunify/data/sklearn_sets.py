"""scikit-learn's bundled datasets (no network): digits, iris, breast_cancer."""

from __future__ import annotations

import numpy as np

from nbunify.data.dataset import Dataset
from nbunify.data.split import make_dataset


def digits(*, validation: float, seed: int) -> Dataset:
    """1,797 handwritten digits as 1x8x8 float32 images in [0, 1] (pixels 0..16 / 16), 10 classes."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]
    classes = tuple(str(label) for label in bunch.target_names)
    return make_dataset("digits", images, bunch.target, validation=validation, seed=seed, classes=classes)


def iris(*, validation: float, seed: int) -> Dataset:
    """150 iris flowers: 4 features in centimetres (as measured, not rescaled), 3 species."""
    from sklearn.datasets import load_iris

    bunch = load_iris()
    return make_dataset(
        "iris", bunch.data, bunch.target, validation=validation, seed=seed, classes=tuple(bunch.target_names)
    )


def breast_cancer(*, validation: float, seed: int) -> Dataset:
    """569 tumours: 30 features standardized with the training split's statistics; malignant/benign."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return make_dataset(
        "breast_cancer",
        bunch.data,
        bunch.target,
        validation=validation,
        seed=seed,
        classes=tuple(bunch.target_names),
        standardize=True,
    )
