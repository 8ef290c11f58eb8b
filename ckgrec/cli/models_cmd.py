"""``ckg models``: the models ``ckg train --model`` accepts, with their options and defaults."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "models",
        help="list the models and their options",
        description="List every model 'ckg train --model' accepts, its paper, its options (set with --set KEY=VALUE or "
        "the [model] table of --config) with defaults, the trainer defaults it changes, and the search space 'ckg tune' explores (each parameter marked train: a trainer option, or model: a model option).",
    )
    p.add_argument("name", nargs="?", help="show only this model")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ckgrec.model.core.options import config_options
    from ckgrec.model.core.search_space import describe_space
    from ckgrec.model.models.registry import MODELS, get_model
    from ckgrec.model.training.config import TRAINER_DEFAULTS

    classes = [get_model(args.name)] if args.name else list(MODELS.values())
    for cls in classes:
        kind = "closed form" if not cls.trainable else "trained by epochs"
        tags = (
            [kind]
            + (["baseline"] if cls.is_baseline else [])
            + (["scores cold items"] if cls.can_score_cold_items else [])
            + (["ranks users without history"] if cls.can_score_cold_users else [])
        )
        print(f"{cls.name}  --  {cls.description}")
        print(f"    {cls.paper}; {', '.join(tags)}")
        opts = config_options(cls.Config)
        if opts:
            width = max(len(n) for n, *_ in opts)
            for name, tname, default, help_text in opts:
                d = ",".join(map(str, default)) if isinstance(default, tuple) else default
                print(f"    --set {name.ljust(width)} = {d!s:<10} ({tname}) {help_text}")
        else:
            print("    (no options)")
        if cls.trainable:
            td = {**TRAINER_DEFAULTS, **dict(cls.train_defaults)}
            print("    trainer defaults: " + ", ".join(f"{k}={v}" for k, v in td.items()))
        if cls.defaults_source:
            print(f"    defaults from: {cls.defaults_source}")
        space = getattr(cls, "search_space", {})
        if space:
            print("    search space (ckg tune):")
            for line in describe_space(dict(space)):
                print(f"      {line}")
        print()
    return 0
