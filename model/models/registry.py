"""``--model`` names -> model classes. Adding a model is one import and one entry in ``_MODELS``."""

from __future__ import annotations

import difflib

from ckgrec.model.models.acf import ACF
from ckgrec.model.models.base import Recommender
from ckgrec.model.models.bprmf import BPRMF
from ckgrec.model.models.dualkgat import DualKGAT
from ckgrec.model.models.ease import EASE
from ckgrec.model.models.featknn import FeatKNN
from ckgrec.model.models.freedom import FREEDOM
from ckgrec.model.models.itemknn import ItemKNN
from ckgrec.model.models.kgat import KGAT
from ckgrec.model.models.kgin import KGIN
from ckgrec.model.models.lightgcn import LightGCN
from ckgrec.model.models.mostpop import MostPop
from ckgrec.model.models.neumf import NeuMF
from ckgrec.model.models.ngcf import NGCF
from ckgrec.model.models.rp3beta import RP3beta
from ckgrec.model.models.simgcl import SimGCL
from ckgrec.model.models.vbpr import VBPR
from ckgrec.schemas.errors import ConfigError

_MODELS: tuple[type[Recommender], ...] = (
    MostPop,
    EASE,
    ItemKNN,
    RP3beta,
    BPRMF,
    NeuMF,
    NGCF,
    LightGCN,
    SimGCL,
    FeatKNN,
    VBPR,
    FREEDOM,
    KGAT,
    KGIN,
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
