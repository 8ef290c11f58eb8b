"""Reading delimited and Parquet files with errors a person can act on.

pandas' own errors on a bad file ("'utf-8' codec can't decode byte 0xe9 in position 3110")
name neither the file nor a fix; these helpers wrap them with both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise InputNotFoundError(f"input file not found: {path}")
    return path


def read_table(
    path: str | Path,
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    header: int | None = 0,
    names: list[str] | None = None,
    required: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a CSV/TSV (all columns as strings) or a Parquet file.

    Everything is read as text so that ids like ``007`` keep their spelling and so that type
    problems are reported by the validator with a row number instead of by pandas' parser.
    """
    p = require_file(Path(path))
    if p.stat().st_size == 0:
        raise InputValidationError([Problem(str(p), None, None, "file is empty", "expected a header row and data")])
    if p.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            names_in_file = pq.read_schema(p).names
        except Exception as e:  # pyarrow raises several unrelated types for a bad file
            raise InputValidationError([Problem(str(p), None, None, "not a readable Parquet file", str(e))]) from e
        _check_unique_columns(str(p), names_in_file)
        try:
            df = pd.read_parquet(p)
        except Exception as e:  # pyarrow raises several unrelated types for a bad file
            raise InputValidationError([Problem(str(p), None, None, "not a readable Parquet file", str(e))]) from e
    else:
        try:
            df = pd.read_csv(
                p,
                sep=sep,
                encoding=encoding,
                header=header,
                names=names,
                dtype=str,
                keep_default_na=False,
                na_values=[],
                engine="python" if len(sep) > 1 else "c",
            )
        except UnicodeDecodeError as e:
            row, byte = _first_undecodable_row(p, encoding, header is not None)
            raise InputValidationError(
                [
                    Problem(
                        str(p),
                        row,
                        None,
                        f"not valid {encoding} text",
                        f"byte 0x{byte:02x}; re-save the file as {encoding} or pass the right encoding",
                    )
                ]
            ) from e
        except pd.errors.ParserError as e:
            raise InputValidationError([Problem(str(p), None, None, "malformed delimited file", str(e))]) from e
        except pd.errors.EmptyDataError as e:
            raise InputValidationError(
                [Problem(str(p), None, None, "file is empty", "expected a header row and data")]
            ) from e
    if header is not None and p.suffix != ".parquet":
        # pandas renames a repeated header cell ('age', 'age.1'); read the header as it is
        cells = (
            pd.read_csv(
                p,
                sep=sep,
                encoding=encoding,
                header=None,
                nrows=1,
                dtype=str,
                keep_default_na=False,
                na_values=[],
                engine="python" if len(sep) > 1 else "c",
            )
            .iloc[0]
            .tolist()
        )
        _check_unique_columns(str(p), cells)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputValidationError(
            [
                Problem(str(p), None, c, "required column is missing", f"columns present: {', '.join(df.columns)}")
                for c in missing
            ]
        )
    if len(df) == 0:
        raise InputValidationError([Problem(str(p), None, None, "file has a header but no data rows")])
    return df


def duplicate_columns(file: str, names: list) -> list[Problem]:
    """One problem per column name that the header repeats (names compared after stripping)."""
    stripped = [str(n).strip() for n in names]
    problems = []
    for name in dict.fromkeys(stripped):
        positions = [k + 1 for k, n in enumerate(stripped) if n == name]
        if len(positions) > 1:
            where = ", ".join(str(k) for k in positions)
            problems.append(
                Problem(
                    file,
                    None,
                    name,
                    "duplicate column name in the header",
                    f"columns {where} are all named '{name}'; rename or remove all but one",
                )
            )
    return problems


def _check_unique_columns(file: str, names: list) -> None:
    problems = duplicate_columns(file, names)
    if problems:
        raise InputValidationError(problems)


def _first_undecodable_row(path: Path, encoding: str, has_header: bool) -> tuple[int | None, int]:
    """(1-based data row, offending byte) of the first line that does not decode.

    pandas reports offsets inside its read buffer, not the file, so the line is found again here.
    """
    with open(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as e:
                row = number - 1 if has_header else number
                return (row if row >= 1 else None), line[e.start]
    return None, 0


def find_table(directory: Path, stem: str) -> Path | None:
    """``stem.csv``/``.tsv``/``.parquet`` in ``directory``, whichever exists."""
    for ext in (".parquet", ".csv", ".tsv"):
        p = directory / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


def sep_for(path: Path) -> str:
    return "\t" if path.suffix == ".tsv" else ","
