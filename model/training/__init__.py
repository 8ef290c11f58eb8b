"""The training loop of every recommender: its config, the BPR sampler, checkpoints and resume."""
