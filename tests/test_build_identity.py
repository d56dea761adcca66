"""The proof of identity: one spec built in torch, keras and paddle computes the same function, and weights move bit-exactly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nbunify as nu
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, random_inputs, random_weights

SPECS = {**REFERENCE_SPECS, **COVERAGE_SPECS}

FRAMEWORKS = ("torch", "keras", "paddle")
TOLERANCE = 1e-5  # float32, inference mode


@pytest.fixture(scope="module", params=sorted(SPECS))
def built(request):
    spec = SPECS[request.param]()
    weights = random_weights(spec)
    models = nu.build(spec, list(FRAMEWORKS), weights=weights)
    inputs = random_inputs(spec)
    outputs = {name: nu.predict(model, inputs) for name, model in models.items()}
    return spec, weights, models, outputs


@pytest.mark.parametrize("pair", list(itertools.combinations(FRAMEWORKS, 2)), ids="-".join)
def test_every_pair_of_frameworks_gives_the_same_outputs(built, pair):
    spec, _, _, outputs = built
    first, second = (outputs[name] for name in pair)
    assert first.shape == second.shape == (4, *spec.output_shape)
    assert np.abs(first - second).max() <= TOLERANCE


def test_weights_travel_torch_keras_paddle_torch_bit_identically(built):
    spec, weights, models, _ = built
    moved = nu.weights(models["torch"])
    for name in ("keras", "paddle", "torch"):
        target = nu.build(spec, name, seed=123)  # different starting weights, overwritten below
        nu.load_weights(target, moved)
        moved = nu.weights(target)
    assert moved.keys() == weights.keys()
    for key in weights:
        assert moved[key].dtype == np.float32 and np.array_equal(moved[key], weights[key]), key


def test_seeded_builds_start_identical(built):
    spec = built[0]
    models = nu.build(spec, list(FRAMEWORKS), seed=7)
    expected = spec.initial_weights(7)
    for model in models.values():
        got = nu.weights(model)
        assert all(np.array_equal(got[key], expected[key]) for key in expected)


def test_token_ids_out_of_range_are_refused_for_every_framework_and_the_models_still_work():
    spec = REFERENCE_SPECS["gru_text_classifier"]()
    models = nu.build(spec, list(FRAMEWORKS), seed=0)
    good = random_inputs(spec)
    bad = good.copy()
    bad[0, 3] = 40  # the embedding has 40 rows: ids 0..39
    for name, model in models.items():
        with pytest.raises(ValueError, match=r"token ids must be in \[0, 40\)"):
            nu.predict(model, bad)
        assert nu.predict(model, good).shape == (4, 4), name
