"""ckgrec: collaborative knowledge graphs for multimedia recommendation.

This package is the command-line root, the only place that sees both ``kgbuild`` (which writes
stores) and ``model`` (which reads them).

The Python API (:mod:`ckgrec.api`: ``build``, ``pretrain``, ``train``, ``evaluate``,
``recommend``, ``compare``, ``run_config`` and their result types) is re-exported here lazily:
``import ckgrec`` and ``ckg --help`` import no torch or pandas; the first use of
``ckgrec.train`` (or any other API name) imports :mod:`ckgrec.api`, which imports the heavy
libraries only inside the functions that need them.
"""

__version__ = "0.1.0"

_API = (
    "StoreHandle",
    "PretrainedGraph",
    "PretrainResult",
    "Run",
    "ExplainingPath",
    "Recommendation",
    "PipelineResult",
    "build",
    "pretrain",
    "train",
    "evaluate",
    "recommend",
    "compare",
    "run_config",
)  # ckgrec.api.__all__ (tests/test_api.py checks they agree)

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from ckgrec import api

        value = getattr(api, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name == "api":
        import importlib

        return importlib.import_module("ckgrec.api")
    raise AttributeError(f"module 'ckgrec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API, "api"})
