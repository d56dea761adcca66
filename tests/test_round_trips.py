"""Issue 5's round trips: every reference architecture, every direction among torch, keras and paddle, via nu.convert."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nbunify as nu
from nbunify.convert.hub import run
from reference_specs import REFERENCE_SPECS, random_inputs, random_weights

#: The bound of issue 5 for every round trip (float32 models).
ROUND_TRIP = 1e-5
DIRECTIONS = list(itertools.permutations(("torch", "keras", "paddle"), 2))


@pytest.fixture(scope="module")
def sources():
    """One build per (spec, framework), shared by the directions that start from it."""
    built = {}

    def source(name: str, framework: str):
        if (name, framework) not in built:
            spec = REFERENCE_SPECS[name]()
            built[name, framework] = nu.build(spec, framework, weights=random_weights(spec))
        return built[name, framework]

    return source


@pytest.mark.parametrize("source_framework, target", DIRECTIONS, ids=[f"{a}-to-{b}" for a, b in DIRECTIONS])
@pytest.mark.parametrize("name", list(REFERENCE_SPECS))
def test_a_round_trip_keeps_the_model_within_1e_5(sources, name, source_framework, target):
    model = sources(name, source_framework)
    converted = nu.convert(model, target)
    report = converted._nbunify_parity
    assert report.ok and report.max_abs_error <= ROUND_TRIP, str(report)
    # Another batch size and other inputs than the proof's: the batch stays dynamic, the layouts stay canonical.
    inputs = random_inputs(REFERENCE_SPECS[name](), batch=5, seed=7)
    expected = nu.predict(model, inputs)
    got = run(converted, [inputs])[0]
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) <= ROUND_TRIP
