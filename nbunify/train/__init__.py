"""Training: nu.fit drives each framework's native loop on the same batches (options, plan, loop, live curves)."""
