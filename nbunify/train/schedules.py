"""Learning-rate schedules computed once, outside the frameworks, so every framework steps with the same rate."""

from __future__ import annotations

import math

from nbunify.train.options import ScheduleOptions


def learning_rate(base: float, schedule: ScheduleOptions, epoch: int, step: int, total_steps: int) -> float:
    """The rate for the optimizer step ``step`` (0-based, counted over the run) taken in ``epoch`` (0-based).

    ``step``: ``base * gamma ** (epoch // step_size)``, torch's StepLR stepped once per epoch.
    ``cosine``: ``min_lr + (base - min_lr) * (1 + cos(pi * step / total_steps)) / 2``, torch's
    CosineAnnealingLR stepped once per batch with ``T_max = total_steps``.
    """
    if schedule.name == "step":
        return base * schedule.gamma ** (epoch // schedule.step_size)
    if schedule.name == "cosine":
        progress = min(step, total_steps) / max(total_steps, 1)
        return schedule.min_lr + (base - schedule.min_lr) * (1 + math.cos(math.pi * progress)) / 2
    return base
