"""``--model`` names -> model classes. Adding a model is one import and one entry in ``_MODELS``."""
from __future__ import annotations

import difflib

from model.acf import ACF
from model.base import Recommender
from model.baselines.bprmf import BPRMF
from model.baselines.ease import EASE
from model.baselines.featknn import FeatKNN
from model.baselines.lightgcn import LightGCN
from model.baselines.mostpop import MostPop
from model.baselines.neumf import NeuMF
from model.baselines.ngcf import NGCF
from model.baselines.vbpr import VBPR
from model.dualkgat import DualKGAT
from model.kgat import KGAT
from schemas.errors import ConfigError

_MODELS: tuple[type[Recommender], ...] = (
    MostPop,
    EASE,
    BPRMF,
    NeuMF,
    NGCF,
    LightGCN,
    FeatKNN,
    VBPR,
    KGAT,
    ACF,
    DualKGAT,
)

MODELS: dict[str, type[Recommender]] = {cls.name: cls for cls in _MODELS}
if len(MODELS) != len(_MODELS):
    raise RuntimeError("two models share a --model name")


def get_model(name: str) -> type[Recommender]:
    """The class registered as ``name``; a ConfigError suggesting the closest name otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(MODELS), n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown model '{name}'{hint} (models: {', '.join(MODELS)}; see 'ckg models')") from None


def model_names() -> list[str]:
    return list(MODELS)
