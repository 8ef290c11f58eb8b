"""A model's declared ``search_space`` as Optuna suggestions, and the checks that it makes sense."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ckgrec.model.core.options import check_option
from ckgrec.model.core.search_space import Categorical, Float, Int, Param
from ckgrec.model.training.config import TrainConfig
from ckgrec.schemas.errors import ConfigError

# trainer options a search may set; the others (epochs, seed, device, ...) are the study's own
TUNABLE_TRAIN = ("lr", "l2", "batch_size", "num_negatives", "optimizer", "negatives_from")


def check_space(model_cls: type) -> None:
    """Raise a ConfigError when ``model_cls.search_space`` names an unknown option or leaves its range."""
    space: Mapping[str, Param] = getattr(model_cls, "search_space", {})
    fields = {f.name: f for f in dataclasses.fields(model_cls.Config)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    for name, p in space.items():
        where = f"{model_cls.name}.search_space[{name!r}]"
        if p.table == "train":
            if name not in TUNABLE_TRAIN or name not in train_fields:
                raise ConfigError(
                    f"{where}: '{name}' is not a trainer option a search may set ({', '.join(TUNABLE_TRAIN)})"
                )
            continue
        if name not in fields:
            raise ConfigError(f"{where}: {model_cls.Config.__name__} has no option '{name}'")
        ends = p.choices if isinstance(p, Categorical) else (p.low, p.high)
        for v in ends:
            try:
                check_option(name, v, fields[name].metadata)
            except ConfigError as e:
                raise ConfigError(f"{where}: {e}") from e


def suggest(trial: Any, space: Mapping[str, Param]) -> dict[str, Any]:
    """One value per parameter from an ``optuna.Trial``, in the space's order."""
    values: dict[str, Any] = {}
    for name, p in space.items():
        if isinstance(p, Float):
            values[name] = trial.suggest_float(name, p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, Int):
            values[name] = trial.suggest_int(name, p.low, p.high, step=p.step, log=p.log)
        elif isinstance(p, Categorical):
            labels = [Categorical.label(c) for c in p.choices]
            values[name] = p.choices[labels.index(trial.suggest_categorical(name, labels))]
        else:
            raise ConfigError(f"search_space[{name!r}]: {type(p).__name__} is not a search-space parameter")
    return values


def decode(space: Mapping[str, Param], params: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna's stored params (tuple choices as ``"64,32"``) back as option values."""
    out: dict[str, Any] = {}
    for name, v in params.items():
        p = space.get(name)
        if isinstance(p, Categorical):
            labels = [Categorical.label(c) for c in p.choices]
            out[name] = p.choices[labels.index(v)] if v in labels else v
        else:
            out[name] = v
    return out


def split_tables(space: Mapping[str, Param], values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trainer values, model values) of one trial."""
    train = {k: v for k, v in values.items() if space[k].table == "train"}
    model = {k: v for k, v in values.items() if space[k].table == "model"}
    return train, model
