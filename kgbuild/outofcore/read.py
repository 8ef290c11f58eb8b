"""Native interactions read and checked in DuckDB, never as a pandas frame.

The rules and messages are those of :func:`ckgrec.kgbuild.validate.validate` (file, 1-based data
row, column, rule, at most 50 per rule and then a count), so a bad file reads the same with and
without ``--memory-limit``. The result is the table ``inter_rel``: one row per (user, item,
relation), as :func:`ckgrec.kgbuild.build._interaction_relations` makes in memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ckgrec.kgbuild.config import BuildConfig
from ckgrec.kgbuild.outofcore.core import Unsupported
from ckgrec.kgbuild.tabular import _check_unique_columns, require_file, sep_for
from ckgrec.kgbuild.validate import MAX_PER_RULE, SPLIT_LABELS
from ckgrec.kgbuild.weights import LEVEL_MIN_CONFIDENCE, WeightDecision, decide
from ckgrec.schemas.errors import ConfigError, InputValidationError, Problem

WS = "' \t\r\n\x0b\x0c'"  # what str.strip() removes from ASCII text


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _strip(col: str) -> str:
    return f"coalesce(trim(CAST({col} AS VARCHAR), {WS}), '')"


def load_raw(con, path: Path) -> list[str]:
    """Copy the interaction file into table ``raw`` (all text, file order kept; ``rowid`` = data row - 1)."""
    p = require_file(path)
    if p.stat().st_size == 0:
        raise InputValidationError([Problem(str(p), None, None, "file is empty", "expected a header row and data")])
    try:
        if p.suffix == ".parquet":
            import pyarrow.parquet as pq

            names = pq.read_schema(p).names
            _check_unique_columns(str(p), names)
            cols = ", ".join(f'CAST("{n}" AS VARCHAR) AS "{n.strip()}"' for n in names)
            con.execute(f"CREATE TABLE raw AS SELECT {cols} FROM read_parquet({lit(p)})")
        else:
            sep = sep_for(p)
            header = pd.read_csv(p, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
            _check_unique_columns(str(p), header)
            names = [str(c).strip() for c in header]
            spec = ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names)
            con.execute(
                f"CREATE TABLE raw AS SELECT * FROM read_csv({lit(p)}, delim={lit(sep)}, header=true, quote='\"', "
                f"escape='\"', columns={{{spec}}}, auto_detect=false, strict_mode=true, null_padding=false)"
            )
    except InputValidationError:
        raise
    except UnicodeDecodeError as e:
        raise InputValidationError([Problem(str(p), None, None, "not valid utf-8 text", str(e))]) from e
    except Exception as e:  # duckdb raises InvalidInputException / ConversionException for a bad file
        what = "not a readable Parquet file" if p.suffix == ".parquet" else "malformed delimited file"
        if "unicode" in str(e).lower() or "utf-8" in str(e).lower():
            what = "not valid utf-8 text"
        raise InputValidationError([Problem(str(p), None, None, what, str(e).splitlines()[0])]) from e
    names = [r[0] for r in con.execute("SELECT name FROM pragma_table_info('raw') ORDER BY cid").fetchall()]
    missing = [c for c in ("user_id", "item_id") if c not in names]
    if missing:
        raise InputValidationError(
            [
                Problem(str(p), None, c, "required column is missing", f"columns present: {', '.join(names)}")
                for c in missing
            ]
        )
    if con.execute("SELECT count(*) FROM raw").fetchone()[0] == 0:
        raise InputValidationError([Problem(str(p), None, None, "file has a header but no data rows")])
    return names


def _rows(con, problems, file, cond, column, rule, value=None, hint="") -> None:
    """Problems for the rows of ``raw`` where ``cond`` holds, as ``_Collector.rows`` words them."""
    sel = f", {value}" if value else ""
    hits = con.execute(f"SELECT rowid{sel} FROM raw WHERE {cond} ORDER BY rowid LIMIT {MAX_PER_RULE}").fetchall()
    for hit in hits:
        detail = f"got '{hit[1]}'" if value else ""
        detail = f"{detail}; {hint}" if detail and hint else (detail or hint)
        problems.append(Problem(file, int(hit[0]) + 1, column, rule, detail))
    if len(hits) == MAX_PER_RULE:
        n = con.execute(f"SELECT count(*) FROM raw WHERE {cond}").fetchone()[0]
        if n > MAX_PER_RULE:
            problems.append(Problem(file, None, column, rule, f"{n - MAX_PER_RULE} more rows like this"))


def check_raw(con, file: str, names: list[str], split_column: str | None) -> list[Problem]:
    """Every interaction problem, in the validator's order."""
    problems: list[Problem] = []
    for col in ("user_id", "item_id"):
        _rows(con, problems, file, f"{_strip(col)} = ''", col, "id must not be empty")
    if "behavior" in names:
        _rows(con, problems, file, f"{_strip('behavior')} = ''", "behavior", "behavior must not be empty")
    if "rating" in names:
        bad = "NOT coalesce(isfinite(TRY_CAST(trim(rating, " + WS + ") AS DOUBLE)), false)"
        _rows(con, problems, file, bad, "rating", "rating must be a finite number", "coalesce(rating, 'None')")
    if "timestamp" in names:
        t = f"TRY_CAST({_strip('timestamp')} AS DOUBLE)"
        bad = f"{_strip('timestamp')} <> '' AND NOT coalesce(isfinite({t}) AND {t} = floor({t}), false)"
        _rows(con, problems, file, bad, "timestamp", "timestamp must be an integer (seconds)", "timestamp")
    if split_column:
        labels = ", ".join(lit(s) for s in SPLIT_LABELS)
        s = _strip(f'"{split_column}"')
        rule = f"split must be one of {', '.join(SPLIT_LABELS)}"
        _rows(con, problems, file, f"{s} NOT IN ({labels})", split_column, rule, s)
        _torn_pairs(con, problems, file, split_column, s, labels)
    return problems


def _torn_pairs(con, problems, file, column, s, labels) -> None:
    torn = con.execute(
        f"SELECT u, i, string_agg(DISTINCT lab, ' and ' ORDER BY lab) FROM (SELECT {_strip('user_id')} u, "
        f"{_strip('item_id')} i, {s} lab, rowid FROM raw WHERE {s} IN ({labels})) GROUP BY u, i "
        f"HAVING count(DISTINCT lab) > 1 ORDER BY min(rowid) LIMIT {MAX_PER_RULE + 1}"
    ).fetchall()
    rule = "a (user, item) pair is in more than one split"
    for user, item, where in torn[:MAX_PER_RULE]:
        problems.append(
            Problem(
                file,
                None,
                column,
                rule,
                f"user '{user}', item '{item}' is in {where}; a pair must be wholly in one split, or its held-out "
                "interaction leaks into a training edge",
            )
        )
    if len(torn) > MAX_PER_RULE:
        n = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM raw WHERE {s} IN ({labels}) GROUP BY {_strip('user_id')}, "
            f"{_strip('item_id')} HAVING count(DISTINCT {s}) > 1)"
        ).fetchone()[0]
        problems.append(Problem(file, None, column, rule, f"{n - MAX_PER_RULE} more pairs like this"))


def _level_name(v: float) -> str:
    return "rating_" + f"{v:g}".replace(".", "_").replace("-", "minus")


def interaction_relations(con, names: list[str], split_column: str | None, cfg: BuildConfig) -> dict | None:
    """Table ``inter_rel`` (user_id, item_id, relation, timestamp, confidence, given) from ``raw``,
    deduplicated as in memory (a repeated (user, item, relation) keeps its first time); returns the
    manifest's ``interaction_weights`` (None without a rating column)."""
    ic = cfg.interactions
    behaviour = _strip("behavior") if "behavior" in names else lit(ic.default_behavior)
    renamed = "CASE b " + " ".join(f"WHEN {lit(k)} THEN {lit(v)} " for k, v in ic.relation_names.items()) + "ELSE b END"
    if not ic.relation_names:
        renamed = "b"
    ts = f"CAST(TRY_CAST(nullif({_strip('timestamp')}, '') AS DOUBLE) AS BIGINT)" if "timestamp" in names else "NULL"
    given = _strip(f'"{split_column}"') if split_column else "''"
    rating = f"TRY_CAST(trim(rating, {WS}) AS DOUBLE)" if "rating" in names else "NULL::DOUBLE"
    where = f"WHERE r >= {float(ic.min_rating)!r}" if "rating" in names and ic.min_rating is not None else ""
    con.execute(
        f"CREATE TEMP VIEW v AS SELECT * FROM (SELECT rowid AS row, {_strip('user_id')} AS user_id, "
        f"{_strip('item_id')} AS item_id, {behaviour} AS b, {rating} AS r, CAST({ts} AS BIGINT) AS ts, "
        f"{given} AS given FROM raw) {where}"
    )
    decision = None
    if "rating" in names:
        values = np.array([r[0] for r in con.execute("SELECT DISTINCT r FROM v").fetchall()], dtype=np.float64)
        mode, reason, n, half = decide(pd.Series(values), ic)
        if mode != "levels":
            raise Unsupported(
                f"the rating column is read as {mode} ({reason}), and the out-of-core build reads levels only",
                f"interactions.rating: the out-of-core build (--memory-limit) reads a rating column as levels only, "
                f"and this one is read as {mode} ({reason}); build with --memory-limit none",
            )
        max_rating = float(values.max()) if len(values) else 1.0
        level = (
            "CASE r "
            + " ".join(f"WHEN {float(v)!r} THEN {lit(_level_name(float(v)))} " for v in np.unique(values))
            + "END"
        )
        conf = f"greatest(r / {max_rating!r}, {LEVEL_MIN_CONFIDENCE!r})" if max_rating > 0 else "1.0"
        relation, confidence = level, conf
        d = WeightDecision(mode, ic.rating, reason, n, half, "rating / max rating", len(np.unique(values)))
        decision = d.as_dict() | {"summary": d.describe()}
    else:
        relation = renamed
        used = [r[0] for r in con.execute(f"SELECT DISTINCT {renamed} FROM v").fetchall()]
        weights = {n: float(ic.confidence.get(n, 1.0)) for n in used}
        confidence = "CASE relation " + " ".join(f"WHEN {lit(k)} THEN {w!r} " for k, w in weights.items()) + "END"
    con.execute(
        f"CREATE TEMP VIEW v2 AS SELECT row, user_id, item_id, relation, ts, CAST({confidence} AS FLOAT) AS "
        f"confidence, given FROM (SELECT *, {relation} AS relation FROM v)"
    )
    bad = con.execute(
        "SELECT relation FROM v2 WHERE NOT regexp_full_match(relation, '[A-Za-z0-9_\\-]+') ORDER BY row LIMIT 1"
    ).fetchone()
    if bad:
        raise ConfigError(
            f"interaction relation name '{bad[0]}' must use letters, digits, '_' or '-'; rename it with [build.interactions.relation_names]"
        )
    con.execute(
        # confidence follows from the relation and given from the pair (checked above): min picks the one value
        "CREATE TABLE inter_rel AS SELECT user_id, item_id, relation, min(ts) AS timestamp, "
        "min(confidence) AS confidence, min(given) AS given FROM v2 GROUP BY user_id, item_id, relation"
    )
    # the ids the source knows, before min_rating: what profiles, features and the catalogue are checked against
    con.execute(f"CREATE TABLE raw_users AS SELECT DISTINCT {_strip('user_id')} AS user_id FROM raw")
    con.execute(f"CREATE TABLE raw_items AS SELECT DISTINCT {_strip('item_id')} AS item_id FROM raw")
    return decision
