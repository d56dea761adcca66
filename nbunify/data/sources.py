"""nu.data.load: named datasets, numpy arrays and framework datasets -> one checked, split Dataset."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from nbunify.data import adapters, archives, sklearn_sets, synthetic
from nbunify.data.dataset import Dataset
from nbunify.data.split import check_seed, check_validation, make_dataset
from nbunify.spec.errors import did_you_mean

# Name -> builder. Each builder takes validation and seed, plus its own keyword options.
SOURCES: dict[str, Callable[..., Dataset]] = {
    "digits": sklearn_sets.digits,
    "iris": sklearn_sets.iris,
    "breast_cancer": sklearn_sets.breast_cancer,
    "synthetic-classification": synthetic.classification,
    "synthetic-regression": synthetic.regression,
    "synthetic-images": synthetic.images,
    "mnist": archives.mnist,
    "fashion-mnist": archives.fashion_mnist,
    "cifar10": archives.cifar10,
}
_ARRAY_OPTIONS = ("task", "num_classes", "classes")


def names() -> list[str]:
    """The dataset names load() accepts."""
    return list(SOURCES)


def load(
    source: Any,
    y: Any = None,
    *,
    validation: float = 0.2,
    seed: int = 0,
    cache_dir: Any = None,
    download: bool = True,
    name: str | None = None,
    **options: Any,
) -> Dataset:
    """Load a dataset, check it, and split it into train and validation, deterministically by ``seed``.

    ``source`` is one of:

    - a name (see names()): ``"digits"`` (scikit-learn's 1,797 digits, 1x8x8 float32 in [0, 1],
      10 classes), ``"iris"`` (4 features, 3 classes), ``"breast_cancer"`` (30 features
      standardized with the training split's statistics, 2 classes), ``"synthetic-classification"``
      (1000 x 20, 3 classes), ``"synthetic-regression"`` (1000 x 10 -> 1 target),
      ``"synthetic-images"`` (600 images 1x16x16, 4 classes); sizes are options, e.g.
      ``load("synthetic-images", n_samples=200, image_size=12)``. Those need no network.
      ``"mnist"``, ``"fashion-mnist"`` (1x28x28) and ``"cifar10"`` (3x32x32), pixels in [0, 1],
      are read from ``cache_dir`` (else ``$NBUNIFY_DATA_DIR``, else ``~/.cache/nbunify/datasets``),
      in a folder named after the dataset, holding the published files unchanged
      (``train-images-idx3-ubyte.gz`` ..., ``cifar-10-python.tar.gz``); missing files are
      downloaded when ``download`` is true. Their official test set becomes ``x_test``/``y_test``;
      ``validation`` splits the official training set.
    - numpy arrays: ``load(X, y)`` or ``load((X, y))``. ``X`` is (samples, features) or
      channels-first images (samples, channels, height, width); (samples, height, width) gains a
      channel axis. Values are used as given (not rescaled). Integer, boolean or text labels make
      a classification dataset, float labels a regression one; options ``task=``,
      ``num_classes=`` and ``classes=`` (label names) say otherwise.
    - a framework's dataset: a torch ``Dataset``/``DataLoader``, a ``tf.data.Dataset``, a paddle
      ``io.Dataset``/``io.DataLoader`` yielding (input, label) pairs; it is iterated once and
      materialized into numpy (batched elements are concatenated). Same options as arrays.
    - a Dataset, returned as it is.

    The split holds out ``round(validation * N)`` samples (stratified by class for
    classification); ``validation=0`` keeps every sample for training. ``name`` renames the
    dataset. Raises ValueError with what to do for an unknown name, mismatched X/y lengths, an
    empty dataset, labels that are not class ids, NaN/Inf inputs, a validation fraction outside
    [0, 1) or a split left empty; DatasetUnavailableError when a download set is neither cached
    nor downloadable.
    """
    if isinstance(source, Dataset):
        return source
    validation, seed = check_validation(validation), check_seed(seed)
    if isinstance(source, str):
        if y is not None:
            raise ValueError(f"load({source!r}, y) takes no y: named datasets bring their own labels.")
        dataset = _named(source, validation, seed, cache_dir, download, options)
    else:
        x, y = _inputs(source, y)
        label = name or adapters.default_name(source)
        _check_options(label, options, _ARRAY_OPTIONS)
        dataset = make_dataset(label, x, y, validation=validation, seed=seed, **options)
    if name is not None:
        dataset.name = name
    return dataset


def _named(source: str, validation: float, seed: int, cache_dir: Any, download: bool, options: dict) -> Dataset:
    key = source.strip().lower().replace("_", "-")
    builder = {known.replace("_", "-"): build for known, build in SOURCES.items()}.get(key)
    if builder is None:
        raise ValueError(
            f"Unknown dataset {source!r}.{did_you_mean(source, SOURCES)} Known datasets: "
            f"{', '.join(SOURCES)}. For your own data pass arrays, nu.data.load(X, y), or a torch, "
            "tf.data or paddle dataset."
        )
    parameters = inspect.signature(builder).parameters
    accepted = [parameter for parameter in parameters if parameter not in ("validation", "seed")]
    network = {"cache_dir": cache_dir, "download": download}
    _check_options(source, options, [option for option in accepted if option not in network])
    extra = {option: value for option, value in network.items() if option in accepted}
    return builder(validation=validation, seed=seed, **extra, **options)


def _inputs(source: Any, y: Any) -> tuple[Any, Any]:
    if adapters.framework_of(source) is not None:
        if y is not None:
            raise ValueError(
                f"load({adapters.default_name(source)}, y): a framework dataset brings its own labels; "
                "pass it alone, or pass numpy arrays as load(X, y)."
            )
        return adapters.to_arrays(source)
    if y is None:
        if isinstance(source, (tuple, list)) and len(source) == 2:
            return source
        raise ValueError(
            f"load() got {type(source).__name__} without labels. Pass a dataset name "
            f"({', '.join(SOURCES)}), arrays as load(X, y) or load((X, y)), or a torch, tf.data or "
            "paddle dataset of (input, label) pairs."
        )
    return np.asarray(source) if isinstance(source, (list, tuple)) else source, y


def _check_options(source: str, options: dict, accepted: list[str] | tuple[str, ...]) -> None:
    unknown = [option for option in options if option not in accepted]
    if unknown:
        valid = ", ".join(accepted) or "none"
        raise ValueError(
            f"load({source!r}) does not take the option(s) {', '.join(unknown)}.{did_you_mean(unknown[0], accepted)} "
            f"Options it accepts: {valid}."
        )
