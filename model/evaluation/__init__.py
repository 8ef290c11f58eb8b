"""Full-ranking metrics, the evaluator, user/item groups, the labelled sampled protocol, and comparisons
of runs with paired tests."""
