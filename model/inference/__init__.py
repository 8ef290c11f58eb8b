"""Load a finished run, recommend top-K lists and explain them with KG paths. Never imports training."""
