"""Everything that learns: pretraining, recommenders, the training and evaluation harness. Reads only the store."""
