"""Pure statistics (numpy and scipy only): sufficient statistics in, inference out."""

from clarion.stats.bandits import thompson_pick, thompson_weights
from clarion.stats.bayesian import bayesian_normal_test
from clarion.stats.beta_binomial import beta_binomial_test
from clarion.stats.corrections import adjust_p_values, benjamini_hochberg, bonferroni, holm
from clarion.stats.cuped import AdjustedStats, CovariateStats, cuped_adjust, cuped_theta
from clarion.stats.effects import EffectMoments, effect_moments
from clarion.stats.frequentist import two_proportion_z_test, welch_t_test, z_test
from clarion.stats.group_sequential import (
    Boundaries,
    boundaries,
    crossing_probability,
    group_sequential_test,
    inflation_factor,
    spent_alpha,
)
from clarion.stats.power import (
    mean_power,
    mean_sample_size,
    minimum_detectable_effect,
    proportion_power,
    proportion_sample_size,
)
from clarion.stats.results import (
    ERROR_CODES,
    BanditResult,
    BayesianResult,
    ErrorCode,
    FrequentistResult,
    GroupSequentialResult,
    SrmResult,
)
from clarion.stats.sequential import (
    always_valid_test,
    confidence_sequence_halfwidth,
    sequential_rho,
)
from clarion.stats.settings import (
    Alternative,
    BayesianSettings,
    BetaBinomialSettings,
    Correction,
    Difference,
    FrequentistSettings,
    GaussianPrior,
    GroupSequentialSettings,
    SequentialSettings,
    Spending,
)
from clarion.stats.srm import srm_test
from clarion.stats.sufficient import MeanStats, ProportionStats, RatioStats, Statistic

__all__ = [
    "ERROR_CODES",
    "AdjustedStats",
    "Alternative",
    "BanditResult",
    "BayesianResult",
    "BayesianSettings",
    "BetaBinomialSettings",
    "Boundaries",
    "Correction",
    "CovariateStats",
    "Difference",
    "EffectMoments",
    "ErrorCode",
    "FrequentistResult",
    "FrequentistSettings",
    "GaussianPrior",
    "GroupSequentialResult",
    "GroupSequentialSettings",
    "MeanStats",
    "ProportionStats",
    "RatioStats",
    "SequentialSettings",
    "Spending",
    "SrmResult",
    "Statistic",
    "adjust_p_values",
    "always_valid_test",
    "bayesian_normal_test",
    "benjamini_hochberg",
    "beta_binomial_test",
    "bonferroni",
    "boundaries",
    "confidence_sequence_halfwidth",
    "crossing_probability",
    "cuped_adjust",
    "cuped_theta",
    "effect_moments",
    "group_sequential_test",
    "holm",
    "inflation_factor",
    "mean_power",
    "mean_sample_size",
    "minimum_detectable_effect",
    "proportion_power",
    "proportion_sample_size",
    "sequential_rho",
    "spent_alpha",
    "srm_test",
    "thompson_pick",
    "thompson_weights",
    "two_proportion_z_test",
    "welch_t_test",
    "z_test",
]
