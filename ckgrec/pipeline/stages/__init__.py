"""One module per stage, each with ``steps(ctx)`` yielding :class:`ckgrec.pipeline.runner.Step` objects."""
