"""nu.predict on keras models: eager on the first call, one traced tf.function after, reading the live weights."""

from __future__ import annotations

import numpy as np

import nbunify as nu
import nbunify.layers as L


def test_native_keras_predict_is_traced_from_the_second_call_and_sees_new_weights():
    spec = nu.Sequential([L.Dense(8, activation="relu"), L.Dense(3)], input_shape=(5,), name="small")
    model = nu.build(spec, "keras", seed=0)
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    first = nu.predict(model, x)
    assert model._nbunify_traced_call.calls == 1  # eager: a model predicted once pays no tracing
    second = nu.predict(model, x)
    traced = model._nbunify_traced_call
    assert traced.calls == 2 and traced.function is not None
    assert traced.function.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(second, first, rtol=1e-6, atol=1e-6)
    weights = [w * 2 for w in model.get_weights()]
    model.set_weights(weights)
    changed = nu.predict(model, x)
    assert not np.allclose(changed, first)
    model.set_weights([w / 2 for w in weights])
    np.testing.assert_allclose(nu.predict(model, x), first, rtol=1e-6, atol=1e-6)
    nu.predict(model, np.concatenate([x, x, x]))  # another batch size: one more trace at most, not one per size
    nu.predict(model, x[:2])
    assert traced.function.experimental_get_tracing_count() <= 2
