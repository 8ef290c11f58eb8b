"""Typed build configuration: one frozen dataclass per concern, validated on construction.

Loaded from the ``[build]`` table of a TOML file by :func:`ckgrec.schemas.config_io.load_toml`; an
unknown key is an error that suggests the closest valid key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ckgrec.schemas.config_io import to_dict
from ckgrec.schemas.errors import ConfigError


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


RATING_MODES = ("auto", "levels", "weight", "bins")
WEIGHT_SCALES = ("log", "user_quantile")
SPLIT_METHODS = ("auto", "random", "temporal", "given")


@dataclass(frozen=True, kw_only=True)
class InteractionConfig:
    """How raw behaviours and ratings become fine-grained interaction relations.

    ``relation_names`` renames behaviours (``{"fav" = "favorite"}``); unnamed ones keep their
    spelling. Explicit ratings become one relation per level (``rating_4``) so that "loved" and
    "tolerated" stay different edges; ``min_rating`` drops ratings below it from the data
    entirely (they are then neither positives nor graph edges).
    ``confidence`` weights behaviours for neighbour sampling; rating levels use rating / max
    rating, weights the scale of ``weight_scale``. ``rating`` says which the column is.
    """

    relation_names: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(
        default_factory=lambda: {"favorite": 1.0, "like": 0.7, "interact": 0.7, "view": 0.3}
    )
    min_rating: float | None = None
    default_behavior: str = "interact"
    # what the numeric ``rating`` column is (see kgbuild.weights):
    #   "levels": a few explicit ratings, one relation per level (rating_1 .. rating_5);
    #   "weight": a count/duration with many levels, one relation (the behaviour's) and a
    #             confidence from ``weight_scale``;
    #   "bins":   like "weight" but ``weight_bins`` quantile-bin relations (<behaviour>_q1 ..);
    #   "auto":   "levels" when the column has at most ``max_levels`` distinct values, all
    #             multiples of 0.5; else "weight".
    rating: str = "auto"
    max_levels: int = 10
    weight_bins: int = 4
    weight_scale: str = (
        "log"  # log: log-scaled between the smallest and largest weight | user_quantile: rank within the user
    )

    def __post_init__(self) -> None:
        for k, v in self.confidence.items():
            _check(0.0 < float(v) <= 1.0, f"interactions.confidence.{k} = {v}: must be in (0, 1]")
        _check(
            self.rating in RATING_MODES, f"interactions.rating = '{self.rating}': use one of {', '.join(RATING_MODES)}"
        )
        _check(
            self.weight_scale in WEIGHT_SCALES,
            f"interactions.weight_scale = '{self.weight_scale}': use one of {', '.join(WEIGHT_SCALES)}",
        )
        _check(self.max_levels >= 2, f"interactions.max_levels = {self.max_levels}: must be >= 2")
        _check(self.weight_bins >= 2, f"interactions.weight_bins = {self.weight_bins}: must be >= 2")


@dataclass(frozen=True, kw_only=True)
class SplitConfig:
    """Per-user split of (user, item) pairs into train / valid / test.

    A pair with several behaviours goes wholly to one split. Users with fewer than
    ``min_pairs_for_holdout`` pairs keep all of them in train (they cannot spare any).
    ``min_user_pairs`` / ``min_item_pairs`` drop sparse users/items once; ``k_core`` > 0
    repeats both filters with k until nothing changes.
    ``method = "given"`` keeps the split the source carries (a ``split`` column, KGAT's
    train.txt/test.txt, MMRec's x_label); when it has no validation part, validation is drawn
    from each user's training pairs with the share r_valid / (r_train + r_valid).
    ``train_fraction`` < 1 then keeps only that share of each user's training pairs (at least one;
    a seeded draw of its own), for learning curves on less data against the same valid/test pairs.
    """

    method: str = "auto"  # auto (given when the source carries a split, else random) | random | temporal | given
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    min_user_pairs: int = 1
    min_item_pairs: int = 1
    k_core: int = 0
    min_pairs_for_holdout: int = 3
    # cold-start protocols (see kgbuild.split.assign_cold_start)
    cold_items: float = 0.0  # share of items held out with ALL their interactions (valid/test halves)
    cold_users: float = 0.0  # share of users reduced to their profile + cold_user_train pairs
    cold_user_train: int = 0  # k: training pairs a cold user keeps (the rest go to test)
    train_fraction: float = 1.0  # share of each user's training pairs kept (>= 1 each); the rest are dropped

    def __post_init__(self) -> None:
        _check(
            isinstance(self.train_fraction, (int, float))
            and not isinstance(self.train_fraction, bool)
            and 0.0 < self.train_fraction <= 1.0,
            f"split.train_fraction = {self.train_fraction!r}: must be a number in (0, 1], e.g. 0.2 keeps a fifth of "
            "each user's training pairs",
        )
        _check(0.0 <= self.cold_items < 1.0, f"split.cold_items = {self.cold_items}: must be in [0, 1)")
        _check(0.0 <= self.cold_users < 1.0, f"split.cold_users = {self.cold_users}: must be in [0, 1)")
        _check(self.cold_user_train >= 0, f"split.cold_user_train = {self.cold_user_train}: must be >= 0")
        _check(
            self.method in SPLIT_METHODS,
            f"split.method = '{self.method}': use 'random' or 'temporal', 'given' (the source's own split) or 'auto' (given when there is one, else random)",
        )
        _check(
            self.method != "given" or (self.cold_items == 0 and self.cold_users == 0),
            "split.method = 'given' keeps the source's split; it cannot be combined with cold_items or cold_users",
        )
        _check(
            len(self.ratios) == 3 and all(r >= 0 for r in self.ratios),
            f"split.ratios = {self.ratios}: need three non-negative numbers",
        )
        _check(abs(sum(self.ratios) - 1.0) < 1e-6, f"split.ratios = {self.ratios}: must sum to 1")
        _check(self.ratios[0] > 0, "split.ratios: the train share must be positive")
        _check(
            self.k_core >= 0 and self.min_user_pairs >= 1 and self.min_item_pairs >= 1,
            "split: filters must be >= 1 (k_core >= 0)",
        )
        _check(self.min_pairs_for_holdout >= 1, "split.min_pairs_for_holdout must be >= 1")


@dataclass(frozen=True, kw_only=True)
class AttributeConfig:
    """How profile / item attribute columns become attribute entities.

    Columns whose every non-empty value is a number and that have more than ``numeric_bins``
    distinct values are binned into ``numeric_bins`` quantile bins; list a column in
    ``categorical`` or ``numeric`` to override the guess. ``ignore`` drops columns.
    """

    numeric_bins: int = 4
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check(self.numeric_bins >= 2, f"numeric_bins = {self.numeric_bins}: must be >= 2")
        both = set(self.numeric) & set(self.categorical)
        _check(not both, f"columns {sorted(both)} are listed as both numeric and categorical")


@dataclass(frozen=True, kw_only=True)
class ConceptConfig:
    """Quantisation of each modality's vectors into concept entities (seeded k-means).

    Each item links to its ``nearest`` closest concepts of that modality; ``clusters`` is
    capped at ceil(sqrt(n)) for n items with that modality, so a small modality does not get
    one concept per item (a concept shared by nobody connects nothing).
    """

    clusters: int = 32
    nearest: int = 2
    max_iter: int = 100

    def __post_init__(self) -> None:
        _check(self.clusters >= 1, f"concepts.clusters = {self.clusters}: must be >= 1")
        _check(1 <= self.nearest <= self.clusters, f"concepts.nearest = {self.nearest}: must be in 1..clusters")


@dataclass(frozen=True, kw_only=True)
class BuildConfig:
    seed: int = 2020
    interactions: InteractionConfig = field(default_factory=InteractionConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    user_attributes: AttributeConfig = field(default_factory=AttributeConfig)
    item_attributes: AttributeConfig = field(default_factory=AttributeConfig)
    concepts: ConceptConfig = field(default_factory=ConceptConfig)
    external_kg: bool = True  # include external KG triples and links when the source has them
    # which builder writes the store (the same bytes either way; kgbuild.outofcore.choice): "auto" | "4GB" |
    # "none"; unset: ckg build's --memory-limit default (auto), in memory from the Python API and ckg run
    memory_limit: str | int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"build.seed = {self.seed!r}: must be an integer from 0 to {2**32 - 1}, e.g. seed = 2020")
        if not isinstance(self.external_kg, bool):
            raise ConfigError(f"build.external_kg = {self.external_kg!r}: must be true or false")
        if self.memory_limit is not None:
            from ckgrec.kgbuild.outofcore.engine import parse_memory_limit

            try:
                parse_memory_limit(self.memory_limit)
            except ConfigError as e:
                raise ConfigError(f"build.memory_limit = {str(e).removeprefix('--memory-limit ')}") from e


def manifest_config(cfg: BuildConfig) -> dict:
    """The config as the manifest records it.

    ``split.train_fraction`` appears only when it is below 1, so a default build writes the very
    manifest (and store bytes) it wrote before the option existed; ``memory_limit`` never does (both
    builders write the same store).
    """
    d = to_dict(cfg)
    del d["memory_limit"]  # how the store was built, not what it holds: never recorded
    if cfg.split.train_fraction == 1.0:
        del d["split"]["train_fraction"]
    return d
