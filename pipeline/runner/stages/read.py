"""The read stage: a raw file -> its Document, spooled (pipeline.runner.spool), a stub on."""

from __future__ import annotations

import contextlib
import logging
import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.listing import RawListing, list_raw
from pipeline.readers.names import shown_name
from pipeline.records import Document, Rejected, RejectedInput
from pipeline.runner.output import BuildError
from pipeline.runner.spool import DocumentSpool
from pipeline.runner.stage import Stage
from pipeline.runner.storage import Location, StorageError

log = logging.getLogger("pipeline.build")


def list_sources(raw: Location, *, follow_symlinks: bool = False) -> RawListing:
    """Input files directly in ``raw``, sorted by name, and the entries skipped, each
    with its reason (``pipeline.readers.listing``: hidden files, sub-folders, symbolic
    links that dangle or lead out of ``raw``), logged here and listed in the manifest.
    A folder on an object store is listed by ``Location.list_files``."""
    folder = raw.local
    if folder is None:
        try:
            return RawListing([f.uri for f in raw.list_files()], [])  # type: ignore[misc]
        except StorageError as error:
            raise BuildError(str(error)) from error
        except OSError as error:  # an object store that cannot be reached
            raise BuildError(f"{raw.uri}: cannot list the raw folder ({error})") from error
    if not folder.is_dir():
        raise BuildError(f"{folder}: raw folder does not exist or is not a folder")
    try:
        listing = list_raw(folder, follow_symlinks=follow_symlinks)
    except OSError as error:
        raise BuildError(f"{folder}: cannot list the raw folder ({error.strerror})") from None
    for skipped in listing.skipped:
        level = logging.WARNING if skipped.notable else logging.DEBUG
        log.log(level, "skipped %s: %s", skipped.entry, skipped.reason)
    return listing


@contextlib.contextmanager
def local_copy(source: Location) -> Iterator[Path]:
    """The file as a local path: itself when local, else a temporary copy under its own
    name (readers name documents by the file's base name)."""
    if source.local is not None:
        yield source.local
        return
    with tempfile.TemporaryDirectory(prefix="un-raw-") as folder:
        path = Path(folder) / source.name
        path.write_bytes(source.read_bytes())
        yield path


class ReadStage(Stage[str, Document]):
    """A raw file (a path, or a URI every worker reaches) -> its Document's stub; the
    document itself goes to the spool. A file that cannot be read is listed with its
    reason. Each document's lineage signature (``pipeline.corpus.lineage``: its text is
    gone from the stub) is recorded here, where the document is whole."""

    name = "read"
    item_independent = True
    parallel = True

    def __init__(self, spool: DocumentSpool) -> None:
        super().__init__()
        self.spool = spool

    @classmethod
    def warm_up(cls) -> None:
        import pipeline.corpus.lineage  # noqa: F401 - imported once, before the fork
        import pipeline.extract  # noqa: F401

    def label(self, item: str) -> str:
        return shown_name(posixpath.basename(str(item).rstrip("/")))

    def process(self, item: str) -> Iterator[Document]:
        from pipeline.corpus.lineage import document_signature
        from pipeline.extract import extract_file
        from pipeline.runner.storage import location

        name = self.label(item)
        try:
            with local_copy(location(item)) as path:
                document = extract_file(path)
        except RejectedInput as error:
            self.drop("rejected")
            self.record("rejected", Rejected(name, error.reason))
            self.warn(f"rejected {name}: {error.reason}")
            return
        except Exception as error:  # a bad document must never stop the build
            self.drop("error")
            reason = f"unexpected error while reading: {type(error).__name__}: {error}"
            self.record("rejected", Rejected(name, reason))
            self.warn(f"rejected {name}: {reason}")
            return
        self.record(
            "documents", (document.symbol, document.language, name, document.metadata.numbered)
        )
        self.record("signatures", document_signature(document))
        yield self.spool.put(document)
