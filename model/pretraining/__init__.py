"""TransR pretraining of each graph through PyKEEN, and writing the embeddings into the store."""
