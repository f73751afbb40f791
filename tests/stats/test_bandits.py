"""Thompson sampling: traffic follows the chance of being best, seeded and reproducible."""

import numpy as np
import pytest

from clarion.stats import MeanStats, ProportionStats, thompson_pick, thompson_weights

ARMS = [ProportionStats(1000, 50), ProportionStats(1000, 80), ProportionStats(1000, 60)]


def test_allocation_favours_the_best_arm():
    result = thompson_weights(ARMS, np.random.default_rng(1))
    assert int(np.argmax(result.weights)) == 1
    assert float(result.weights[1]) > 0.9
    assert float(np.sum(result.weights)) == pytest.approx(1.0)


def test_the_floor_keeps_every_arm_explored():
    result = thompson_weights(ARMS, np.random.default_rng(1), floor=0.05)
    assert np.all(result.weights >= 0.05)
    assert float(np.sum(result.weights)) == pytest.approx(1.0)


def test_same_seed_same_allocation():
    first = thompson_weights(ARMS, np.random.default_rng(9), draws=2000)
    second = thompson_weights(ARMS, np.random.default_rng(9), draws=2000)
    np.testing.assert_array_equal(first.weights, second.weights)


def test_inverse_metrics_prefer_the_lowest():
    result = thompson_weights(ARMS, np.random.default_rng(2), inverse=True)
    assert int(np.argmax(result.weights)) == 0


def test_mean_arms_and_an_unexplored_arm():
    arms = [
        MeanStats.from_values(np.full(500, 10.0) + np.linspace(-1, 1, 500)),
        MeanStats.from_values(np.full(500, 12.0) + np.linspace(-1, 1, 500)),
        MeanStats(0, 0, 0),
    ]
    result = thompson_weights(arms, np.random.default_rng(4))
    assert float(result.best_probability[1]) > 0.5
    assert float(result.best_probability[2]) > 0.05  # never seen, so still explored


def test_per_visitor_picks_follow_the_weights():
    picks = thompson_pick(ARMS, np.random.default_rng(3), size=4000)
    weights = thompson_weights(ARMS, np.random.default_rng(3), draws=4000).weights
    shares = np.bincount(picks, minlength=3) / 4000
    np.testing.assert_allclose(shares, weights, atol=0.03)


def test_many_metrics_at_once():
    arms = [ProportionStats([1000, 1000], [50, 90]), ProportionStats([1000, 1000], [90, 50])]
    result = thompson_weights(arms, np.random.default_rng(5))
    assert result.weights.shape == (2, 2)
    assert np.argmax(result.weights, axis=-1).tolist() == [1, 0]
