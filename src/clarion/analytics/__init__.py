"""Analytics: the metric dictionary compiled to Ibis, metrics by dimension, targets and pacing."""
