from __future__ import annotations

import pytest

from vigifeu.training.epochs import CheckpointScore, mean_swing


def test_mean_swing_averages_the_changes_between_epochs_only() -> None:
    scores = [
        CheckpointScore("1", 0.2, 0.1),
        CheckpointScore("2", 0.6, 0.2),
        CheckpointScore("3", 0.4, 0.2),
        CheckpointScore("averaged", 0.9, 0.4),
    ]
    assert mean_swing(scores) == pytest.approx(0.3)
    assert mean_swing(scores[:1]) is None
