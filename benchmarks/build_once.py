"""Build each reference architecture in torch, keras and paddle: build time per framework and max output error per pair."""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402

import nbunify as nu  # noqa: E402
from nbunify.frameworks import load, set_threads  # noqa: E402
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, random_inputs, random_weights  # noqa: E402

FRAMEWORKS = ("torch", "keras", "paddle")
REPEATS = 3


def main() -> None:
    for name in FRAMEWORKS:
        load(name)  # import cost is not build cost
    set_threads(2)
    print(f"{'architecture':<26}{'params':>8}  " + "  ".join(f"{f'build {f} (ms)':>17}" for f in FRAMEWORKS)
          + "  " + "  ".join(f"{f'{a}-{b} max err':>18}" for a, b in itertools.combinations(FRAMEWORKS, 2)))
    for key, make in {**REFERENCE_SPECS, **COVERAGE_SPECS}.items():
        spec = make()
        weights = random_weights(spec)
        times = {}
        models = {}
        for framework in FRAMEWORKS:
            samples = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                models[framework] = nu.build(spec, framework, weights=weights)
                samples.append(time.perf_counter() - start)
            times[framework] = statistics.median(samples)
        inputs = random_inputs(spec, batch=16)
        outputs = {framework: nu.predict(model, inputs) for framework, model in models.items()}
        errors = [float(np.abs(outputs[a] - outputs[b]).max()) for a, b in itertools.combinations(FRAMEWORKS, 2)]
        print(f"{key:<26}{spec.parameter_count():>8}  " + "  ".join(f"{times[f] * 1000:>17.1f}" for f in FRAMEWORKS)
              + "  " + "  ".join(f"{error:>18.2e}" for error in errors))
    print(f"(median of {REPEATS} builds each, after the frameworks were imported; errors on 16 random inputs, float32)")


if __name__ == "__main__":
    main()
