"""Store -> tensors: the training matrices, graph edge lists, item features, KG splits and pretrained embeddings."""
