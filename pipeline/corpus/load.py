"""``pipeline.load_corpus``: a built corpus as a pandas DataFrame, for notebooks.

One call for what a researcher wants most: one split, optionally without the rows
already seen in train, with the column types the schema declares (``pipeline.corpus
.schema``) rather than the ones pandas would guess: ``string`` for text, ``int32`` and
``bool`` where a column has no nulls, pandas' nullable ``Int32`` / ``Float64`` where it
may (``session``, ``len_ratio``), so an empty split has the same dtypes as a full one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from pipeline.corpus.finalize import DOCUMENTS_FILE
from pipeline.corpus.schema import DOCUMENT_SCHEMA, PARAGRAPH_SCHEMA, SENTENCE_SCHEMA
from pipeline.corpus.splits import SPLITS
from pipeline.corpus.write import PAIR

if TYPE_CHECKING:
    import pandas as pd

#: What ``table`` may name: (file or folder below the corpus, declared schema).
TABLES = {
    "sentences": (PAIR, SENTENCE_SCHEMA),
    "paragraphs": (f"{PAIR}-paragraphs", PARAGRAPH_SCHEMA),
    "documents": (DOCUMENTS_FILE, DOCUMENT_SCHEMA),
}


def pandas_dtype(field: pa.Field) -> object:
    """The pandas dtype of a declared column (module docstring); lists and the
    ``translation`` struct stay Python objects (numpy arrays and dicts)."""
    import pandas as pd

    kind = field.type
    if pa.types.is_string(kind):
        return pd.StringDtype()
    if pa.types.is_int32(kind):
        return "Int32" if field.nullable else "int32"
    if pa.types.is_float64(kind):
        return "Float64" if field.nullable else "float64"
    if pa.types.is_boolean(kind):
        return "boolean" if field.nullable else "bool"
    return object


def load_corpus(
    path: str | Path,
    split: str | None = None,
    *,
    unseen_only: bool = False,
    table: str = "sentences",
) -> pd.DataFrame:
    """The rows of one ``split`` (``train``, ``validation``, ``test``; None: all, in
    file order) of a corpus folder, as a DataFrame with the declared dtypes.

    ``unseen_only`` drops validation and test rows whose duplicate group occurs in
    train (``seen_in_train``): what is left is a leak-free evaluation set. ``table`` is
    ``sentences`` (default), ``paragraphs`` or ``documents`` (one row per document read,
    with its lineage and split; ``unseen_only`` does not apply)."""
    import pyarrow.dataset as ds

    folder = Path(path)
    if not (folder / "manifest.json").is_file():
        raise FileNotFoundError(f"{folder}: not a corpus folder (no manifest.json)")
    if split is not None and split not in SPLITS:
        raise ValueError(f"split {split!r}: expected one of {', '.join(SPLITS)} or None")
    if table not in TABLES:
        raise ValueError(f"table {table!r}: expected one of {', '.join(TABLES)}")
    if unseen_only and table == "documents":
        raise ValueError("unseen_only applies to the sentences and paragraphs tables")
    where, schema = TABLES[table]
    if table == "documents":
        files = [folder / where]
    else:
        files = sorted((folder / where).glob(f"{split or '*'}-*.parquet"), key=lambda p: p.name)
    if not files or not all(f.is_file() for f in files):
        raise FileNotFoundError(f"{folder / where}: no Parquet files for split {split}")
    data = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
    condition = None
    if split is not None and table == "documents":
        condition = ds.field("split") == split
    if unseen_only:
        condition = ~ds.field("seen_in_train")
    frame = data.to_table(filter=condition).to_pandas()
    return frame.astype({f.name: pandas_dtype(f) for f in schema})
