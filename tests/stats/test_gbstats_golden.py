"""Golden numbers: the same sufficient statistics through gbstats 0.8.0 and through us.

The expected values below were printed by GrowthBook's gbstats 0.8.0 (run in its own
environment) for exactly these inputs; agreement is required to 1e-9.
"""

import pytest

from clarion.stats import (
    BayesianSettings,
    CovariateStats,
    FrequentistSettings,
    GaussianPrior,
    MeanStats,
    ProportionStats,
    RatioStats,
    SequentialSettings,
    always_valid_test,
    bayesian_normal_test,
    cuped_adjust,
    cuped_theta,
    srm_test,
    welch_t_test,
)

TOL = 1e-9
MEAN_A = MeanStats(n=3407, sum=76687, sum_squares=2255837.0)
MEAN_B = MeanStats(n=3461, sum=81252, sum_squares=2402923.0)
PROP_A = ProportionStats(n=3407, sum=1021)
PROP_B = ProportionStats(n=3461, sum=1124)


def _frequentist(result):
    return [result.estimate, result.ci_lower, result.ci_upper, result.p_value]


def _bayesian(result):
    return [
        result.expected,
        result.ci_lower,
        result.ci_upper,
        result.chance_to_win,
        result.risk_control,
        result.risk_treatment,
    ]


FREQUENTIST_CASES = [
    (
        "t relative",
        lambda: welch_t_test(MEAN_A, MEAN_B),
        [0.0429964869900258, 0.016720160374117617, 0.06927281360593399, 0.0013441897804051806],
    ),
    (
        "t absolute",
        lambda: welch_t_test(MEAN_A, MEAN_B, FrequentistSettings(difference="absolute")),
        [0.9677932485483147, 0.3895217170122829, 1.5460647800843466, 0.0010404260412439914],
    ),
    (
        "t one-sided greater",
        lambda: welch_t_test(MEAN_A, MEAN_B, FrequentistSettings(alternative="greater")),
        [0.0429964869900258, 0.02094561369127853, float("inf"), 0.0006720948902025903],
    ),
    (
        "t proportion",
        lambda: welch_t_test(PROP_A, PROP_B),
        [0.08370506562420318, 0.007502706826896063, 0.1599074244215103, 0.03132848278427103],
    ),
    (
        "sequential relative",
        lambda: always_valid_test(MEAN_A, MEAN_B),
        [0.0429964869900258, 0.002240538213760926, 0.08375243576629067, 0.030991020420980987],
    ),
    (
        "sequential absolute",
        lambda: always_valid_test(MEAN_A, MEAN_B, SequentialSettings(difference="absolute")),
        [0.9677932485483147, 0.07086403684540343, 1.864722460251226, 0.024941952716066286],
    ),
    (
        "sequential proportion",
        lambda: always_valid_test(PROP_A, PROP_B),
        [0.08370506562420318, -0.03448882185239438, 0.20189895310080075, 0.41260386317049363],
    ),
    (
        "ratio metric",
        lambda: welch_t_test(
            RatioStats(MeanStats(3407, 76687, 2255837.0), MeanStats(3407, 7000, 16000.0), 170000.0),
            RatioStats(MeanStats(3461, 81252, 2402923.0), MeanStats(3461, 7200, 16500.0), 180000.0),
        ),
        [0.030096365746475885, 0.005891593578180018, 0.05430113791477175, 0.01481602711056662],
    ),
    (
        "CUPED",
        lambda: welch_t_test(
            *cuped_adjust(
                [
                    CovariateStats(MEAN_A, MeanStats(3407, 70000, 1900000.0), 1800000.0),
                    CovariateStats(MEAN_B, MeanStats(3461, 71500, 1950000.0), 1900000.0),
                ]
            )
        ),
        [0.040604456205031086, 0.017210262358638803, 0.06399865005142337, 0.0006716971202302968],
    ),
]

BAYESIAN_CASES = [
    (
        "flat prior relative",
        lambda: bayesian_normal_test(MEAN_A, MEAN_B),
        [
            0.0429964869900258,
            0.01672480751550396,
            0.06926816646454763,
            0.9993309861659988,
            0.0429989001215149,
            2.413131489102986e-06,
        ],
    ),
    (
        "flat prior absolute",
        lambda: bayesian_normal_test(MEAN_A, MEAN_B, BayesianSettings(difference="absolute")),
        [
            0.9677932485483147,
            0.38962398814043653,
            1.5459625089561928,
            0.9994823779311751,
            0.9678336300630287,
            4.03815147138439e-05,
        ],
    ),
    (
        "proper relative prior",
        lambda: bayesian_normal_test(
            PROP_A, PROP_B, BayesianSettings(prior=GaussianPrior(0.1, 0.03, proper=True))
        ),
        [
            0.08448647179309508,
            0.010146767671796869,
            0.1588261759143933,
            0.9870425012543745,
            0.08465783659849882,
            0.0001713648054037389,
        ],
    ),
    (
        "proper absolute prior rescaled to relative",
        lambda: bayesian_normal_test(
            PROP_A,
            PROP_B,
            BayesianSettings(
                prior_scale="absolute", prior=GaussianPrior(0.01, 0.0004, proper=True)
            ),
        ),
        [
            0.0709540006731697,
            0.005118652892765918,
            0.1367893484535735,
            0.9826717727309673,
            0.07116397278602593,
            0.0002099721128562265,
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "run", "expected"), FREQUENTIST_CASES, ids=[c[0] for c in FREQUENTIST_CASES]
)
def test_frequentist_and_sequential_match_gbstats(name, run, expected):
    assert [float(v) for v in _frequentist(run())] == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("name", "run", "expected"), BAYESIAN_CASES, ids=[c[0] for c in BAYESIAN_CASES]
)
def test_bayesian_matches_gbstats(name, run, expected):
    assert [float(v) for v in _bayesian(run())] == pytest.approx(expected, abs=TOL)


def test_cuped_theta_matches_gbstats():
    arms = [
        CovariateStats(MEAN_A, MeanStats(3407, 70000, 1900000.0), 1800000.0),
        CovariateStats(MEAN_B, MeanStats(3461, 71500, 1950000.0), 1900000.0),
    ]
    assert float(cuped_theta(arms)) == pytest.approx(0.477172309585563, abs=TOL)


@pytest.mark.parametrize(
    ("counts", "weights", "expected"),
    [
        ([5200, 4800], [0.5, 0.5], 6.334248366623988e-05),
        ([1000, 1100, 950], [1 / 3, 1 / 3, 1 / 3], 0.0032221549052224925),
    ],
)
def test_srm_matches_gbstats(counts, weights, expected):
    assert float(srm_test(counts, weights).p_value) == pytest.approx(expected, abs=1e-12)
