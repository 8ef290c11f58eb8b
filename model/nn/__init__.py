"""Building blocks that take tensors and plain numbers, never a config object: losses, sparse propagation,
TransR projections, sparse edge softmax, attention, aggregation, layer fusion, dimension importance and
neighbour sampling."""
