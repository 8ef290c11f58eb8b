"""Building blocks of the knowledge-graph attention models (kgat, dualkgat): edge lists from the
store, sparse edge softmax, TransR-projected attention, bi-interaction aggregation, layer fusion
and per-dimension importance. Each takes tensors and plain numbers, never a config object.
"""
