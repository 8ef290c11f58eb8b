"""Options declare their valid values beside them (``option(choices=..., low=..., high=...)``)."""

from __future__ import annotations

import dataclasses

import pytest

from ckgrec.model.core.options import config_options
from ckgrec.model.models.dualkgat import DualKGATConfig
from ckgrec.model.models.registry import MODELS
from ckgrec.schemas.errors import ConfigError


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dropout": 1.0}, "dropout = 1.0: must be in [0, 1)"),
        ({"dropout": float("nan")}, "dropout = nan: must be in [0, 1)"),
        ({"kg_weight": -0.5}, "kg_weight = -0.5: must be in >= 0"),
        ({"layer_dims": (64, 0)}, "layer_dims = (64, 0): must be in >= 1"),
        ({"fusion": "sum"}, "fusion = 'sum': choose one of attention_concat, "),
        ({"init": "xavier"}, "init = 'xavier': choose one of pretrained, random, auto"),
    ],
)
def test_a_value_outside_the_declared_rule_is_refused(kwargs, message):
    with pytest.raises(ConfigError) as e:
        DualKGATConfig(**kwargs)
    assert message in str(e.value)


def test_every_default_satisfies_its_own_rule():
    for cls in MODELS.values():
        cls.Config()  # raises if a default breaks its declared rule


def test_ckg_models_shows_the_rule_of_each_option():
    rows = {name: text for name, _, _, text in config_options(DualKGATConfig)}
    assert rows["dropout"].endswith("[[0, 1)]") and "attention_concat | " in rows["fusion"]
    declared = [
        f.name
        for f in dataclasses.fields(DualKGATConfig)
        if f.metadata.get("choices") or f.metadata.get("low") is not None
    ]
    assert all(rows[name].endswith("]") for name in declared)
