"""The finalize pass: the columns that need the whole corpus, filled once it is written.

``dup_count`` counts a duplicate group over every split, and ``seen_in_train`` needs
every train row's group, so neither is known while documents stream through the writers.
Both engines therefore write rows with ``dup_count`` 0, then call :func:`finalize_corpus`
on the written shards (a local folder or any storage URI, ``pipeline.runner.storage``):

1. read back two or three small columns of each kept table (``dup_group``, ``split``,
   ``score``, ``align_type``): about 18 bytes a row in numpy arrays, 70 MB for the 3.8
   million sentence rows of the whole UN archive, never the text;
2. count each group (``GroupIndex``), mark the groups that occur in train;
3. rewrite every shard (rejects included) one row group at a time with the two columns
   filled, so memory stays one row group whatever the corpus size;
4. optionally export, per split, one row per duplicate group (the best-scoring one) as
   TMX and Moses (``dedup/``), validation and test without the groups seen in train;
5. write the documents table and return the summary the card, manifest and report show.

One function for both engines: the local build and the Ray build finalize the same
shards the same way, so their rows are equal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.corpus.dedup import group_numbers
from pipeline.corpus.schema import DOCUMENT_SCHEMA
from pipeline.corpus.splits import SPLITS
from pipeline.corpus.summary import corpus_summary
from pipeline.corpus.write import COMPRESSION, PAIR, MosesWriter, TmxWriter, release_arrow_memory
from pipeline.records import DocumentRow

if TYPE_CHECKING:  # a folder or storage URI; the engines hand one in
    from pipeline.runner.storage import Location

#: The tables, and the kept table whose groups each is counted against (a rejected row's
#: ``dup_count`` counts corpus rows; rejects are not part of the corpus).
TABLES = {
    "sentences": "sentences",
    "paragraphs": "paragraphs",
    "sentence_rejects": "sentences",
    "paragraph_rejects": "paragraphs",
}
DOCUMENTS_FILE = "documents.parquet"
DEDUP_FOLDER = "dedup"
#: The export's files per split: TMX 1.4b and Moses (``dedup/en-zh.train.tmx``, ...).
EXPORTS = ("tmx", "en", "zh")
TRAIN = SPLITS.index("train")


@dataclass(frozen=True)
class GroupIndex:
    """Each duplicate group of a kept table: its rows, and whether any is in train."""

    groups: np.ndarray  # sorted distinct group numbers (uint64)
    counts: np.ndarray  # rows per group
    in_train: np.ndarray  # bool per group

    @classmethod
    def build(cls, groups: np.ndarray, splits: np.ndarray) -> GroupIndex:
        distinct, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
        in_train = np.zeros(len(distinct), dtype=bool)
        in_train[inverse[splits == TRAIN]] = True
        return cls(distinct, counts, in_train)

    def lookup(self, groups: np.ndarray, splits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dup_count, seen_in_train) of rows with these groups and split codes; a group
        not in the index (a rejected row's text found nowhere in the corpus) counts 0."""
        if len(self.groups) == 0:
            return np.zeros(len(groups), dtype=np.int32), np.zeros(len(groups), dtype=bool)
        position = np.minimum(np.searchsorted(self.groups, groups), len(self.groups) - 1)
        found = self.groups[position] == groups
        counts = np.where(found, self.counts[position], 0).astype(np.int32)
        return counts, found & self.in_train[position] & (splits != TRAIN)


@dataclass
class KeptColumns:
    """Pass 1: the columns of a kept table the finalize pass needs, in corpus order."""

    groups: np.ndarray
    splits: np.ndarray
    scores: np.ndarray
    two_sided: np.ndarray
    index: GroupIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = GroupIndex.build(self.groups, self.splits)

    @property
    def seen(self) -> np.ndarray:
        return self.index.lookup(self.groups, self.splits)[1]


def split_codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The ``split`` column as positions in ``SPLITS`` (int8)."""
    codes = np.full(len(column), -1, dtype=np.int8)
    for code, name in enumerate(SPLITS):
        codes[pc.equal(column, name).to_numpy(zero_copy_only=False)] = code
    if (codes < 0).any():
        raise ValueError(f"split column holds a value other than {SPLITS}")
    return codes


def _group_numbers(table: pa.Table) -> np.ndarray:
    return group_numbers(table.column("dup_group").to_pylist())


def _parquet(location: Location) -> pq.ParquetFile:
    return pq.ParquetFile(location.fs.open_input_file(location.path))


def read_kept(out: Location, paths: Sequence[str]) -> KeptColumns:
    """Pass 1 over a kept table's shards."""
    parts: dict[str, list[np.ndarray]] = {"g": [], "s": [], "x": [], "t": []}
    columns = ["dup_group", "split", "score", "align_type"]
    for path in paths:
        table = _parquet(out.child(*path.split("/"))).read(columns=columns)
        parts["g"].append(_group_numbers(table))
        parts["s"].append(split_codes(table.column("split")))
        parts["x"].append(table.column("score").to_numpy())
        shape = table.column("align_type")
        one_sided = pc.or_(pc.starts_with(shape, "0-"), pc.ends_with(shape, "-0"))
        parts["t"].append(~one_sided.to_numpy(zero_copy_only=False))
    empty = {"g": np.uint64, "s": np.int8, "x": np.float64, "t": bool}
    joined = {k: np.concatenate(v) if v else np.zeros(0, dtype=empty[k]) for k, v in parts.items()}
    return KeptColumns(joined["g"], joined["s"], joined["x"], joined["t"])


def best_of_groups(kept: KeptColumns) -> np.ndarray:
    """Rows to export: per split, the best-scoring two-sided row of each group (ties:
    the first in corpus order); in validation and test only groups unseen in train."""
    eligible = np.flatnonzero(kept.two_sided & ~kept.seen)
    order = np.lexsort(
        (eligible, -kept.scores[eligible], kept.groups[eligible], kept.splits[eligible])
    )
    ranked = eligible[order]
    first = np.ones(len(ranked), dtype=bool)
    if len(ranked) > 1:
        same_split = kept.splits[ranked[1:]] == kept.splits[ranked[:-1]]
        first[1:] = ~(same_split & (kept.groups[ranked[1:]] == kept.groups[ranked[:-1]]))
    selected = np.zeros(len(kept.groups), dtype=bool)
    selected[ranked[first]] = True
    return selected


def location_sha256(location: Location) -> str:
    digest = hashlib.sha256()
    with location.fs.open_input_stream(location.path) as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def rewrite_shard(
    location: Location, index: GroupIndex, on_rows: Callable[[pa.Table], None] | None = None
) -> dict[str, Any]:
    """Fill ``dup_count`` and ``seen_in_train`` of one shard, row group by row group,
    through a temporary beside it; ``on_rows`` sees each finished row group."""
    source = _parquet(location)
    schema = source.schema_arrow
    if source.metadata.num_rows:
        temporary = location.sibling(f".{location.name}.final")
        with temporary.open_output() as sink:
            with pq.ParquetWriter(sink, schema, compression=COMPRESSION) as writer:
                for number in range(source.num_row_groups):
                    rows = _filled(source.read_row_group(number), schema, index)
                    if on_rows is not None:
                        on_rows(rows)
                    writer.write_table(rows, row_group_size=rows.num_rows)
                    del rows
                    release_arrow_memory()
        location.fs.move(temporary.path, location.path)
    rows_total = source.metadata.num_rows
    return {"rows": rows_total, "sha256": location_sha256(location)}


def _filled(rows: pa.Table, schema: pa.Schema, index: GroupIndex) -> pa.Table:
    counts, seen = index.lookup(_group_numbers(rows), split_codes(rows.column("split")))
    for name, values in (("dup_count", counts), ("seen_in_train", seen)):
        position = schema.get_field_index(name)
        rows = rows.set_column(
            position, schema.field(name), pa.array(values, schema.field(name).type)
        )
    return rows


class DedupExport:
    """``dedup/en-zh.<split>.tmx|.en|.zh``: the rows :func:`best_of_groups` chose, in
    corpus order, written as they pass through the rewrite of the sentence shards."""

    def __init__(self, out: Location, selected: np.ndarray) -> None:
        self.out = out
        self.selected = selected
        self.offset = 0
        self.writers: dict[str, tuple[TmxWriter, MosesWriter]] = {}
        for split in SPLITS:
            paths = [PurePosixPath(DEDUP_FOLDER, f"{PAIR}.{split}.{ext}") for ext in EXPORTS]
            tmx_out, en_out, zh_out = (self._open(path) for path in paths)
            tmx = TmxWriter(Path(paths[0]), handle=tmx_out)
            moses = MosesWriter(Path(paths[1]), Path(paths[2]), (en_out, zh_out))
            self.writers[split] = (tmx, moses)

    def _open(self, path: PurePosixPath) -> io.TextIOWrapper:
        """A text stream into ``out`` (a local folder or an object store)."""
        stream = self.out.child(*path.parts).open_output()
        return io.TextIOWrapper(stream, encoding="utf-8", newline="\n")

    def __call__(self, rows: pa.Table) -> None:
        chosen = self.selected[self.offset : self.offset + rows.num_rows]
        self.offset += rows.num_rows
        if not chosen.any():
            return
        picked = rows.filter(pa.array(chosen))
        fields = ["id", "symbol", "score", "align_type", "kind", "en", "zh", "split"]
        for values in picked.select(fields).to_pylist():
            row = SimpleNamespace(**values)
            tmx, moses = self.writers[row.split]
            tmx.write_row(row)  # type: ignore[arg-type]
            moses.write_row(row)  # type: ignore[arg-type]

    def close(self) -> dict[str, Any]:
        """Finish the files; the manifest's entry for them."""
        entries, rows = [], 0
        for split, (tmx, moses) in self.writers.items():
            tmx.close()
            moses.close()
            rows += tmx.units
            for path in (tmx.path, *moses.paths):
                location = self.out.child(*path.parts)
                entries.append(
                    {
                        "path": path.as_posix(),
                        "split": split,
                        "rows": tmx.units,
                        "sha256": location_sha256(location),
                    }
                )
        return {"rows": rows, "files": entries}


def write_documents(out: Location, documents: Sequence[DocumentRow]) -> dict[str, Any]:
    """``documents.parquet``: one row per document read, in (symbol, language, file) order."""
    ordered = sorted(documents, key=lambda d: (d.symbol, d.language, d.source_file))
    rows = [dataclasses.asdict(d) for d in ordered]
    table = (
        pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA)
        if rows
        else DOCUMENT_SCHEMA.empty_table()
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=COMPRESSION)
    data = sink.getvalue().to_pybytes()
    out.child(DOCUMENTS_FILE).write_bytes(data)
    entry = {"path": DOCUMENTS_FILE, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(rows)}
    return {"rows": len(rows), "files": [entry]}


@dataclass
class Finalized:
    """What the finalize pass wrote (the manifest's ``files`` entries) and the summary
    of splits, duplicates and lineages (card, manifest, report)."""

    files: dict[str, Any]
    summary: dict[str, Any]


def finalize_corpus(
    out: Location,
    tables: Mapping[str, Sequence[str]],
    documents: Sequence[DocumentRow],
    *,
    export_dedup: bool,
) -> Finalized:
    """The finalize pass (module docstring). ``tables`` maps each table of ``TABLES`` to
    its shards' paths below ``out``, in corpus order (split files sorted by name)."""
    kept = {name: read_kept(out, tables[name]) for name in ("sentences", "paragraphs")}
    export = DedupExport(out, best_of_groups(kept["sentences"])) if export_dedup else None
    examples = _Examples(kept["sentences"])
    files: dict[str, Any] = {}
    for name, counted_by in TABLES.items():
        entries = []
        for path in tables[name]:
            hooks = [examples] if name == "sentences" else []
            if name == "sentences" and export is not None:
                hooks.append(export)
            done = rewrite_shard(out.child(*path.split("/")), kept[counted_by].index, _each(hooks))
            entries.append({"path": path, **done})
        files[name] = {"rows": sum(e["rows"] for e in entries), "files": entries}
    if export is not None:
        files["dedup"] = export.close()
    files["documents"] = write_documents(out, documents)
    summary = corpus_summary(kept, documents, examples.found)
    return Finalized(files, summary)


def _each(hooks: list[Callable[[pa.Table], None]]) -> Callable[[pa.Table], None] | None:
    if not hooks:
        return None

    def run(rows: pa.Table) -> None:
        for hook in hooks:
            hook(rows)

    return run


class _Examples:
    """The text of the largest duplicate groups, from their first row in corpus order."""

    def __init__(self, kept: KeptColumns, count: int = 10) -> None:
        index = kept.index
        order = np.lexsort((index.groups, -index.counts))
        top = [k for k in order[:count] if index.counts[k] > 1]
        self.groups = index.groups[top]
        self.found: dict[int, tuple[str, str]] = {}

    def __call__(self, rows: pa.Table) -> None:
        if len(self.found) == len(self.groups):
            return
        numbers = _group_numbers(rows)
        for position in np.flatnonzero(np.isin(numbers, self.groups)):
            number = int(numbers[position])
            if number not in self.found:
                self.found[number] = (
                    rows.column("en")[int(position)].as_py(),
                    rows.column("zh")[int(position)].as_py(),
                )
