"""Export a batch's results as relational tables: DuckDB, Parquet and/or CSV.

The export is a pure function of the output folder: the manifest (`manifest.sqlite`) says which
documents are finished, and their JSON files (`docs/…`) hold the data. Every target is rebuilt
from scratch in a temporary file and renamed into place, so re-exporting gives the same tables
and a reader never sees half an export. Memory is flat in corpus size: documents are read one
at a time and streamed into staging files that DuckDB loads (and writes Parquet from) itself.

The tables and their types are in export_schema (documented in docs/batch.md), staging in
export_stage; this module loads the staged files into DuckDB and writes Parquet and CSV.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# ORDER, schema_markdown and _fits are re-exported: callers and docs/batch.md name them here.
from .export_schema import ORDER, SCALE, SCHEMA, ExportError, ddl, schema_markdown, sql_name  # noqa: F401
from .export_stage import NULL, _fits, stage_batch  # noqa: F401
from .manifest import FILENAME

__all__ = ["ORDER", "PARTITION_COLUMNS", "SCHEMA", "ExportError", "ExportSummary", "build_duckdb", "export_batch",
           "schema_markdown", "_fits"]


@dataclass
class ExportSummary:
    rows: dict[str, int] = field(default_factory=dict)
    targets: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _load_sql(table: str, path: Path) -> str:
    """Insert a staged CSV; decimals travel as text and are cast exactly by DuckDB."""
    read_types = {n: ("VARCHAR" if typ in SCALE else typ) for n, typ, _ in SCHEMA[table]}
    columns = "{" + ", ".join(f"{_sql_str(n)}: {_sql_str(t)}" for n, t in read_types.items()) + "}"
    select = ", ".join(f"CAST({sql_name(n)} AS {typ})" if typ in SCALE else sql_name(n) for n, typ, _ in SCHEMA[table])
    # No ORDER BY: the staged rows are already in key order (documents by path, each in document
    # order), insertion order is kept, and sorting would hold the whole table in memory.
    return (f"INSERT INTO {sql_name(table)} SELECT {select} FROM read_csv({_sql_str(str(path))}, "
            f"header=false, delim=',', quote='\"', escape='\"', nullstr={_sql_str(NULL)}, "
            f"columns={columns}, auto_detect=false, strict_mode=true)")


MEMORY_LIMIT = "128MB"  # DuckDB's buffer pool; it writes blocks out beyond that


def _limit_memory(con, work: Path) -> None:
    """Keep DuckDB's memory flat in corpus size: without a limit its buffer pool keeps the
    freshly loaded tables resident (~+100 MB per 1,000 documents)."""
    con.execute("SET threads TO 2")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {_sql_str(str(work / 'spill'))}")


def build_duckdb(stage_dir: Path, rows: dict[str, int], target: Path) -> None:
    import duckdb

    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute("SET preserve_insertion_order = true")
        _limit_memory(con, target.parent)
        for table in SCHEMA:
            con.execute(ddl(table))
            if rows.get(table):
                con.execute(_load_sql(table, stage_dir / f"{table}.csv"))
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _copy_out(db: Path, folder: Path, fmt: str) -> list[Path]:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    _limit_memory(con, db.parent)
    written = []
    try:
        for table in SCHEMA:
            final = folder / f"{table}.{fmt}"
            tmp = folder / f".{table}.{fmt}.{os.getpid()}.tmp"
            options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
            con.execute(f"COPY {sql_name(table)} TO {_sql_str(str(tmp))} ({options})")  # insertion order
            os.replace(tmp, final)
            written.append(final)
    finally:
        con.close()
    return written


PARTITION_COLUMNS = ("year", "kind")  # documents columns a Parquet dataset can be partitioned by


def _copy_partitioned(db: Path, folder: Path, by: tuple[str, ...]) -> list[Path]:
    """One Hive-partitioned Parquet dataset per table: FOLDER/<table>/<col>=<value>/…parquet.
    Every table is partitioned by the same documents columns (joined in by `doc`), so DuckDB,
    Spark or Polars read any table with its partition columns and prune by them. A table's
    folder is replaced whole: written beside it, then swapped in by two renames."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    _limit_memory(con, db.parent)
    written = []
    cols = ", ".join(sql_name(c) for c in by)
    try:
        for table in SCHEMA:
            final = folder / table
            tmp = folder / f".{table}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            if table == "documents":
                select = "SELECT * FROM documents"
            else:
                select = (f"SELECT t.*, {', '.join(f'd.{sql_name(c)}' for c in by)} FROM {sql_name(table)} t "
                          f"JOIN documents d USING (doc)")
            con.execute(f"COPY ({select}) TO {_sql_str(str(tmp))} (FORMAT parquet, COMPRESSION zstd, "
                        f"PARTITION_BY ({cols}))")
            tmp.mkdir(exist_ok=True)  # an empty table still gets its (empty) folder
            old = folder / f".{table}.{os.getpid()}.old"
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
            written.append(final)
    finally:
        con.close()
    return written


def export_batch(out_dir: str | os.PathLike[str], duckdb_file: str | os.PathLike[str] | None = None,
                 parquet_dir: str | os.PathLike[str] | None = None,
                 csv_dir: str | os.PathLike[str] | None = None,
                 partition_by: tuple[str, ...] = ()) -> ExportSummary:
    """`partition_by` (columns of PARTITION_COLUMNS): Parquet as Hive-partitioned datasets
    (see _copy_partitioned) instead of one file per table."""
    out_dir = Path(out_dir)
    bad = [c for c in partition_by if c not in PARTITION_COLUMNS]
    if bad:
        raise ExportError(f"cannot partition by {', '.join(bad)} (choose from {', '.join(PARTITION_COLUMNS)})")
    if partition_by and parquet_dir is None:
        raise ExportError("--partition-by goes with --parquet DIR")
    if not (out_dir / FILENAME).exists():
        raise ExportError(f"{out_dir} is not a batch output folder (no {FILENAME}; run `structurer batch` first)")
    summary = ExportSummary()
    work = _workdir(Path(duckdb_file).resolve().parent if duckdb_file else out_dir)
    try:
        stage_dir = work / "stage"
        stage_dir.mkdir()
        summary.rows = stage_batch(out_dir, stage_dir, summary.notes)
        db = work / "export.duckdb"
        try:
            build_duckdb(stage_dir, summary.rows, db)
        except Exception as exc:  # duckdb.Error: a staged value DuckDB refused
            raise ExportError(f"DuckDB could not load the tables: {' '.join(str(exc).split())[:300]}") from exc
        shutil.rmtree(stage_dir)
        for folder, fmt in ((parquet_dir, "parquet"), (csv_dir, "csv")):
            if folder is not None:
                try:
                    if fmt == "parquet" and partition_by:
                        summary.targets.extend(_copy_partitioned(db, Path(folder), tuple(partition_by)))
                    else:
                        summary.targets.extend(_copy_out(db, Path(folder), fmt))
                except OSError as exc:
                    raise ExportError(f"cannot write {folder}: {exc.strerror or exc}") from exc
                except Exception as exc:  # duckdb.Error (e.g. the folder is not writable)
                    raise ExportError(f"cannot write {folder}: {' '.join(str(exc).split())[:200]}") from exc
        if duckdb_file is not None:
            target = Path(duckdb_file)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                _move_atomic(db, target)
            except OSError as exc:
                raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
            summary.targets.insert(0, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _move_atomic(src: Path, target: Path) -> None:
    try:
        os.replace(src, target)  # the work dir is next to the target: an atomic rename
    except OSError:  # another file system: copy next to the target, then rename
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)


def _workdir(near: Path) -> Path:
    """A private folder next to the target (so the final rename is atomic), else in TMPDIR."""
    try:
        near.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".structurer-export-", dir=near))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="structurer-export-"))
