"""Pairs, filters, dense ids, the per-user split and ``train_fraction`` as DuckDB SQL.

Each step mirrors its in-memory twin in :mod:`ckgrec.kgbuild.split` and
:mod:`ckgrec.kgbuild.build` tie for tie: ids are numbered by the same ``natural_order`` (run on
the distinct ids, which fit in memory), and the seeded random keys are the very same numpy
streams, generated in bounded chunks and matched to pairs by their rank in (user, item) order, so
the split is the same pair for pair and the store the same byte for byte.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ckgrec.kgbuild.config import BuildConfig
from ckgrec.kgbuild.notices import Notices
from ckgrec.kgbuild.split import resolve_method
from ckgrec.kgbuild.store_output import natural_order
from ckgrec.schemas.errors import ConfigError, InputValidationError, Problem

CHUNK = 1 << 20  # rows of random keys generated at a time


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


class Unsupported(ConfigError):
    """A configuration the out-of-core build does not cover yet; ``reason`` says which, in a few words.
    :func:`ckgrec.kgbuild.build.build` catches it and builds in memory instead."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def unsupported_reason(cfg: BuildConfig) -> str | None:
    """Why ``cfg`` cannot be built out of core, known before reading (None when it can)."""
    if cfg.split.cold_items > 0 or cfg.split.cold_users > 0:
        return "split.cold_items / cold_users are not ported to the out-of-core build yet"
    return None


def check_supported(cfg: BuildConfig) -> None:
    if unsupported_reason(cfg):
        raise Unsupported(
            unsupported_reason(cfg),
            "split.cold_items / cold_users are not supported by the out-of-core build (--memory-limit) yet; "
            "build with --memory-limit none",
        )


def make_pairs(con, cfg: BuildConfig, interactions_file: str) -> dict[str, int]:
    """Table ``p`` of filtered (user_id, item_id, first_ts, given); returns what the filters dropped."""
    con.execute(
        "CREATE TABLE p AS SELECT user_id, item_id, min(timestamp) AS first_ts, min(given) AS given "
        "FROM inter_rel GROUP BY user_id, item_id"
    )
    before = con.execute("SELECT count(DISTINCT user_id), count(DISTINCT item_id), count(*) FROM p").fetchone()
    s = cfg.split
    _drop_sparse(con, s.min_user_pairs, s.min_item_pairs)
    if s.k_core > 0:
        while True:
            n = scalar(con, "SELECT count(*) FROM p")
            _drop_sparse(con, s.k_core, s.k_core)
            if scalar(con, "SELECT count(*) FROM p") == n:
                break
    after = con.execute("SELECT count(DISTINCT user_id), count(DISTINCT item_id), count(*) FROM p").fetchone()
    if after[2] == 0:
        raise InputValidationError(
            [Problem(interactions_file, None, None, "no interactions left after filtering", f"split config: {s}")]
        )
    return {"users": int(before[0] - after[0]), "items": int(before[1] - after[1]), "pairs": int(before[2] - after[2])}


def _drop_sparse(con, min_user: int, min_item: int) -> None:
    if min_user <= 1 and min_item <= 1:
        return
    con.execute(
        "CREATE OR REPLACE TABLE p AS SELECT user_id, item_id, first_ts, given FROM (SELECT *, "
        "count(*) OVER (PARTITION BY user_id) AS nu, count(*) OVER (PARTITION BY item_id) AS ni FROM p) "
        f"WHERE nu >= {int(min_user)} AND ni >= {int(min_item)}"
    )


def dense_ids(con, cfg: BuildConfig, catalogue: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """Source ids of users and items in store order (tables ``uid``, ``iid`` map them), and table
    ``pairs`` with dense ``user``, ``item`` and ``pos``, the rank in (user, item) order."""
    users = natural_order(np.array([r[0] for r in con.execute("SELECT DISTINCT user_id FROM p").fetchall()], object))
    items = np.array([r[0] for r in con.execute("SELECT DISTINCT item_id FROM p").fetchall()], dtype=object)
    if catalogue is not None and cfg.split.min_item_pairs <= 1 and cfg.split.k_core == 0:
        con.register("catalogue", pa.table({"item_id": pa.array(catalogue.astype(str).tolist(), pa.string())}))
        extra = con.execute(
            "SELECT item_id FROM catalogue WHERE item_id NOT IN (SELECT item_id FROM raw_items)"
        ).fetchall()
        items = np.concatenate([items, np.array([r[0] for r in extra], dtype=object)])
        con.unregister("catalogue")
    items = natural_order(items)
    for name, col, dense, ids in (("uid", "user_id", "user", users), ("iid", "item_id", "item", items)):
        con.register("_ids", pa.table({col: pa.array(list(ids), pa.string()), dense: np.arange(len(ids))}))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _ids")
        con.unregister("_ids")
    con.execute(
        "CREATE TABLE pairs AS SELECT p.user_id, p.item_id, u.user, i.item, p.first_ts, p.given, "
        "row_number() OVER (ORDER BY u.user, i.item) - 1 AS pos FROM p JOIN uid u USING (user_id) "
        "JOIN iid i USING (item_id)"
    )
    return users, items


def _keys(con, name: str, n: int, seed) -> None:
    """Table ``name`` (k, key): the first ``n`` draws of ``default_rng(seed).random``, in bounded chunks."""
    con.execute(f"CREATE OR REPLACE TABLE {name} (k BIGINT, key DOUBLE)")
    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        con.register("_chunk", pa.table({"k": np.arange(start, start + m, dtype=np.int64), "key": rng.random(m)}))
        con.execute(f"INSERT INTO {name} SELECT * FROM _chunk")
        con.unregister("_chunk")


def _per_user_holdout(con, source: str, key: str, out: str, ratios, min_pairs: int, where: str = "TRUE") -> None:
    """Table ``out`` (pos, label) for the rows of ``source`` matching ``where``, as
    :func:`ckgrec.kgbuild.split.assign_splits`: per user, the last ones in (key, item) order are held out."""
    _, r_valid, r_test = (float(r) for r in ratios)
    con.execute(
        f"CREATE OR REPLACE TABLE {out} AS SELECT pos, CASE WHEN position >= n - n_test THEN 'test' "
        "WHEN position >= n - n_test - n_valid THEN 'valid' ELSE 'train' END AS label FROM (SELECT pos, position, n, "
        f"CASE WHEN n >= {min_pairs} AND {r_test!r} > 0 THEN greatest(1, floor(n * {r_test!r} + 0.5)) ELSE 0 END "
        f"AS n_test, CASE WHEN n >= {min_pairs} AND {r_valid!r} > 0 THEN greatest(1, floor(n * {r_valid!r} + 0.5)) "
        "ELSE 0 END AS n_valid FROM (SELECT pos, row_number() OVER (PARTITION BY user ORDER BY "
        f"{key}, item) - 1 AS position, count(*) OVER (PARTITION BY user) AS n FROM {source} WHERE {where}))"
    )


def _ranked(con, name: str, where: str) -> None:
    """View ``name``: the rows of ``pairs`` matching ``where`` with k, their rank in (user, item) order."""
    con.execute(
        f"CREATE OR REPLACE TABLE {name} AS SELECT *, row_number() OVER (ORDER BY pos) - 1 AS k FROM pairs WHERE {where}"
    )


def split(con, cfg: BuildConfig, origin: str, interactions_file: str, notices: Notices) -> dict:
    """Column ``split`` of ``pairs`` by the configured method, with the manifest's split record."""
    s = cfg.split
    has_given = bool(scalar(con, "SELECT count(*) FROM pairs WHERE given <> ''"))
    method = resolve_method(s, has_given)
    info: dict = {"method": method, "requested": s.method}
    n = scalar(con, "SELECT count(*) FROM pairs")
    if method == "given":
        if not has_given:
            raise ConfigError(
                f"split.method = 'given', but {interactions_file} carries no split (a 'split' column of "
                "train/valid/test, KGAT's train.txt + test.txt, or MMRec's x_label); use method = 'random' or 'temporal'"
            )
        con.execute("CREATE TABLE labels AS SELECT pos, given AS label FROM pairs")
        r_train, r_valid, _ = s.ratios
        if scalar(con, "SELECT count(*) FROM pairs WHERE given = 'valid'"):
            valid_from = "from the source"
        elif r_valid == 0:
            valid_from = "none (split.ratios gives validation 0)"
        else:
            share = r_valid / (r_train + r_valid)
            _ranked(con, "sub", "given = 'train'")
            _keys(con, "keys", scalar(con, "SELECT count(*) FROM sub"), cfg.seed)
            con.execute("CREATE OR REPLACE TABLE sub AS SELECT sub.*, keys.key FROM sub JOIN keys USING (k)")
            _per_user_holdout(con, "sub", "key", "drawn", (1.0 - share, share, 0.0), s.min_pairs_for_holdout)
            con.execute(
                "CREATE OR REPLACE TABLE labels AS SELECT l.pos, coalesce(d.label, l.label) AS label FROM labels l "
                "LEFT JOIN drawn d USING (pos)"
            )
            valid_from = f"drawn from each user's training pairs (share {share:.3f}, seed {cfg.seed})"
        info.update(origin=origin or f"split column of {interactions_file}", valid=valid_from)
    elif method == "temporal":
        if scalar(con, "SELECT count(*) FROM pairs WHERE first_ts IS NULL"):
            raise ConfigError("split.method = 'temporal' needs a timestamp on every interaction")
        _per_user_holdout(con, "pairs", "CAST(first_ts AS DOUBLE)", "labels", s.ratios, s.min_pairs_for_holdout)
    else:
        _keys(con, "keys", n, cfg.seed)
        con.execute(
            "CREATE OR REPLACE TABLE keyed AS SELECT pairs.*, keys.key FROM pairs JOIN keys ON keys.k = pairs.pos"
        )
        _per_user_holdout(con, "keyed", "key", "labels", s.ratios, s.min_pairs_for_holdout)
    con.execute(
        "CREATE OR REPLACE TABLE pairs AS SELECT pairs.*, labels.label AS split, 'warm' AS protocol FROM pairs "
        "JOIN labels USING (pos)"
    )
    _warn_empty(con, cfg, method, info.get("origin", ""), n, notices)
    return info


def _warn_empty(con, cfg, method, origin, n, notices) -> None:
    s = cfg.split
    for name, label, k, consequence in (
        (
            "validation",
            "valid",
            1,
            "'ckg train' refuses a store without validation pairs (nothing to select the best epoch on)",
        ),
        ("test", "test", 2, "the store cannot be evaluated"),
    ):
        if scalar(con, f"SELECT count(*) FROM pairs WHERE split = '{label}'"):
            continue
        if method == "given" and label == "test":
            reason = f"the source's split ({origin}) has no {label} pairs"
        elif s.ratios[k] == 0:
            reason = "split.ratios gives it 0"
        elif (
            scalar(con, "SELECT max(c) FROM (SELECT count(*) AS c FROM pairs GROUP BY user)") < s.min_pairs_for_holdout
        ):
            reason = (
                f"no user has {s.min_pairs_for_holdout} or more pairs (split.min_pairs_for_holdout = "
                f"{s.min_pairs_for_holdout}), so every pair stays in train"
            )
        else:
            reason = "no user had a pair to spare for it"
        notices.warn(f"split: the {name} split is empty (0 of {n:,} pairs): {reason}; {consequence}")


def keep_train_fraction(con, cfg: BuildConfig, info: dict) -> None:
    """``split.train_fraction`` as :func:`ckgrec.kgbuild.split.train_fraction_mask` draws it."""
    fraction = cfg.split.train_fraction
    if fraction >= 1.0:
        return
    _ranked(con, "tr", "split = 'train'")
    _keys(con, "keys", scalar(con, "SELECT count(*) FROM tr"), [cfg.seed, 9])
    con.execute(
        "CREATE OR REPLACE TABLE dropped AS SELECT pos FROM (SELECT pos, row_number() OVER (PARTITION BY user "
        "ORDER BY key, item) - 1 AS position, count(*) OVER (PARTITION BY user) AS t FROM tr JOIN keys USING (k)) "
        f"WHERE position >= greatest(1, floor(t * {float(fraction)!r} + 0.5))"
    )
    info.update(train_fraction=fraction, train_pairs_dropped=int(scalar(con, "SELECT count(*) FROM dropped")))
    con.execute("CREATE OR REPLACE TABLE pairs AS SELECT * FROM pairs WHERE pos NOT IN (SELECT pos FROM dropped)")


def interactions(con) -> None:
    """Table ``inter``: every kept interaction with its pair's dense ids and split, in store order."""
    con.execute(
        "CREATE TABLE inter AS SELECT p.user, p.item, r.relation, p.split, r.timestamp, r.confidence, p.protocol "
        "FROM inter_rel r JOIN pairs p USING (user_id, item_id) ORDER BY p.user, p.item, r.relation"
    )
