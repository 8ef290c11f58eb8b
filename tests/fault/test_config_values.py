"""A value of the wrong type or outside its range is one ConfigError naming key, value and what is expected."""

from __future__ import annotations

import pytest

from ckgrec.kgbuild.config import BuildConfig
from ckgrec.schemas.config_io import from_mapping
from ckgrec.schemas.errors import ConfigError


@pytest.mark.parametrize(
    "data, message",
    [
        ({"seed": "abc"}, r"seed = 'abc': expected an integer"),
        ({"seed": True}, r"seed = True: expected an integer"),
        ({"seed": -1}, r"build.seed = -1: must be an integer from 0 to"),
        ({"split": {"ratios": [0.8, "a", 0.1]}}, r"ratios = \(0.8, 'a', 0.1\): expected a list of 3 values"),
        ({"concepts": {"clusters": 1.5}}, r"clusters = 1.5: expected an integer"),
        ({"external_kg": 1}, r"external_kg = 1: expected true or false"),
    ],
)
def test_build_config_values(data, message):
    with pytest.raises(ConfigError, match=message):
        from_mapping(BuildConfig, data, "t.toml [build]")


def test_numbers_still_accepted_where_numbers_belong():
    cfg = from_mapping(BuildConfig, {"seed": 7, "split": {"ratios": [1, 0, 0]}}, "t.toml [build]")  # ints for floats
    assert cfg.seed == 7 and tuple(cfg.split.ratios) == (1, 0, 0)


def test_train_config_refuses_zero_epochs_and_infinite_rates():
    from ckgrec.model.training.config import TrainConfig

    with pytest.raises(ConfigError, match="train.epochs = 0: must be an integer >= 1"):
        TrainConfig(epochs=0)
    for lr in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ConfigError, match="train.lr"):
            TrainConfig(lr=lr)
    assert TrainConfig(epochs=1, lr=0.5).epochs == 1
