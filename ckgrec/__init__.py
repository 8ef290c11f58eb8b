"""ckgrec: collaborative knowledge graphs for multimedia recommendation.

This package is the command-line root, the only place that sees both ``kgbuild`` (which writes
stores) and ``model`` (which reads them).
"""
__version__ = "0.1.0"
