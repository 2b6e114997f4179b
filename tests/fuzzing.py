"""How much the fuzz tests generate, and from which seed.

`make test` (and CI) runs a fixed set: derandomized, the same examples on every run, so a failure
reproduces. `make fuzz` runs deeper: PAYLINKS_FUZZ_SEED (random unless given; the Makefile
prints it so that a failure can be replayed) and PAYLINKS_FUZZ_EXAMPLES (more examples each).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, seed, settings

DEEP_SEED = os.environ.get("PAYLINKS_FUZZ_SEED")
DEEP_EXAMPLES = os.environ.get("PAYLINKS_FUZZ_EXAMPLES")


def fuzz_settings(examples: int, **extra: Any) -> Callable[[Any], Any]:
    """Hypothesis settings for a fuzz test with `examples` in the fixed set."""
    common = settings(
        max_examples=int(DEEP_EXAMPLES) if DEEP_EXAMPLES else examples,
        deadline=None,
        derandomize=DEEP_SEED is None,
        suppress_health_check=list(HealthCheck),
        **extra,
    )
    if DEEP_SEED is None:
        return common

    def seeded(test: Any) -> Any:
        return common(seed(int(DEEP_SEED))(test))

    return seeded
