"""Where the build reads and writes: a local folder or any pyarrow/fsspec file system URI.

Why: on a cluster the raw documents and the corpus must be somewhere every node reaches
(``s3://bucket/raw``, ``gs://...``, a shared mount), and nothing a worker needs may live
only on the driver's disk. A :class:`Location` is picklable (it travels as its URI and
resolves its file system lazily in whichever process uses it), so Ray tasks receive
locations, never file contents.

Supported: plain paths and ``file://`` URIs (the local file system), every scheme
``pyarrow.fs.FileSystem.from_uri`` knows (``s3``, ``gs``, ``hdfs``, ``abfs``), and any
other scheme fsspec has an implementation for (wrapped in ``PyFileSystem``).
"""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs


class StorageError(Exception):
    """A location that cannot be resolved or read (names the URI and the reason)."""


@functools.lru_cache(maxsize=32)
def _resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    if "://" not in uri:
        return pafs.LocalFileSystem(), str(Path(uri).expanduser().resolve())
    try:
        fs, path = pafs.FileSystem.from_uri(uri)
    except OSError as error:  # e.g. an object store that cannot be reached
        raise StorageError(f"{uri}: cannot reach the file system ({error})") from error
    except (pa.ArrowInvalid, ValueError) as arrow_error:
        try:
            import fsspec
            from pyarrow.fs import FSSpecHandler, PyFileSystem

            fs_spec, path = fsspec.core.url_to_fs(uri)
        except Exception as error:  # noqa: BLE001 - one clear error for any failure
            raise StorageError(
                f"{uri}: no file system for this URI ({arrow_error}; {error})"
            ) from error
        return PyFileSystem(FSSpecHandler(fs_spec)), path
    if isinstance(fs, pafs.LocalFileSystem):
        path = str(Path(path).resolve())
    return fs, path


@dataclass(frozen=True)
class Location:
    """A folder or file on some file system, named by a URI or a local path."""

    uri: str

    @property
    def fs(self) -> pafs.FileSystem:
        return _resolve(self.uri)[0]

    @property
    def path(self) -> str:
        """The path within ``fs`` (no scheme)."""
        return _resolve(self.uri)[1]

    @property
    def local(self) -> Path | None:
        """The local path, when this location is on the local file system."""
        return Path(self.path) if isinstance(self.fs, pafs.LocalFileSystem) else None

    @property
    def name(self) -> str:
        return posixpath.basename(self.path.rstrip("/"))

    def child(self, *parts: str) -> Location:
        """A location below this one (URIs keep their scheme)."""
        base = self.uri.rstrip("/")
        return Location("/".join([base, *parts]))

    def sibling(self, name: str) -> Location:
        base = self.uri.rstrip("/")
        return Location(base[: base.rfind("/") + 1] + name) if "/" in base else Location(name)

    def exists(self) -> bool:
        return self.fs.get_file_info(self.path).type != pafs.FileType.NotFound

    def is_dir(self) -> bool:
        return self.fs.get_file_info(self.path).type == pafs.FileType.Directory

    def mkdir(self) -> None:
        self.fs.create_dir(self.path, recursive=True)

    def read_bytes(self) -> bytes:
        with self.fs.open_input_stream(self.path) as handle:
            return handle.read()

    def write_bytes(self, data: bytes) -> None:
        """Write a whole file. On a local file system through a temporary and a rename,
        so a retried task (Ray re-runs a task whose worker died) never leaves half a file."""
        local = self.local
        if local is not None:
            import os

            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, local)
            return
        # Object stores publish an object only when its upload completes.
        with self.open_output() as handle:
            handle.write(data)

    def open_output(self) -> pafs.NativeFile:  # type: ignore[name-defined]
        """A binary output stream (the driver streams assembled files through it)."""
        parent = posixpath.dirname(self.path)
        if parent:
            self.fs.create_dir(parent, recursive=True)
        return self.fs.open_output_stream(self.path)

    def delete(self) -> None:
        """Delete this file or folder (recursively); a missing one is no error."""
        info = self.fs.get_file_info(self.path)
        if info.type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path)
        elif info.type == pafs.FileType.File:
            self.fs.delete_file(self.path)

    def list_files(self) -> list[Location]:
        """Files directly in this folder, by name; hidden files are skipped (as the
        local build does: files are named by base name, so no recursion)."""
        info = self.fs.get_file_info(self.path)
        if info.type != pafs.FileType.Directory:
            raise StorageError(f"{self.uri}: raw folder does not exist or is not a folder")
        entries = self.fs.get_file_info(pafs.FileSelector(self.path, recursive=False))
        names = sorted(
            e.base_name
            for e in entries
            if e.type == pafs.FileType.File and not e.base_name.startswith(".")
        )
        return [self.child(name) for name in names]


def location(spec: str | Path) -> Location:
    """A Location from a CLI value: a URI stays as it is, a path becomes absolute."""
    text = str(spec)
    if "://" in text:
        if text.startswith("file://"):
            return Location(str(Path(text[len("file://") :]).resolve()))
        return Location(text)
    return Location(str(Path(text).expanduser().resolve()))


def copy_tree(source: Path, target: Location) -> None:
    """Replace ``target`` on an object store by the local folder ``source``: every file
    but ``manifest.json`` first, the manifest (the completion marker) last; not atomic
    there, which is why a reader checks for the manifest."""
    target.delete()
    files = sorted(p for p in source.rglob("*") if p.is_file())
    for path in [p for p in files if p.name != "manifest.json"] + [source / "manifest.json"]:
        if path.exists():
            target.child(*path.relative_to(source).parts).write_bytes(path.read_bytes())


#: File system types on which SQLite's locking and WAL mode are not safe.
NETWORK_FS_TYPES = (
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "lustre",
    "gpfs",
    "ceph",
    "glusterfs",
    "fuse.sshfs",
    "fuse.s3fs",
    "fuse.gcsfuse",
    "fuse.juicefs",
    "9p",
    "afs",
)


def mount_type(path: Path, mounts: str | None = None) -> str:
    """The file system type of the mount holding ``path`` (Linux ``/proc/mounts``;
    "" where unknown). ``mounts`` is the table's text (tests pass their own)."""
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8")
        except OSError:
            return ""
    target = str(Path(path).resolve())
    best, kind = "", ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def on_network_fs(path: Path, mounts: str | None = None) -> bool:
    """Whether ``path`` is on a network file system (where SQLite must not live)."""
    return mount_type(path, mounts) in NETWORK_FS_TYPES
