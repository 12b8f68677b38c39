"""The real Bertalign as a peer: its own kernels, our encoder injected.

Issue 9 asks the benchmark to compare our aligner with the peer programs themselves, not
with our reimplementations of them. The registry's ``bertalign`` 2.0.1 (a maintained fork
of Liu & Zhu's original, GPL-3.0) is fetched at bench time into ``.cache/peers`` and
never vendored into this repository nor imported by ``pipeline/``:

* its package needs Python 3.12 (``aligner.py`` uses the ``type`` statement) and pulls a
  language detector and a sentence splitter we do not need, so the package itself is not
  installed; its dynamic-programming kernels, ``corelib.py`` (numba + torch), load on
  3.11 straight from the file;
* the overlap texts come from its own ``utils.yield_overlaps`` (and the two helpers it
  calls), compiled from the fetched file's source, so padding ("PAD"), blank lines
  ("BLANK_LINE") and truncation are exactly its own;
* :func:`bertalign_align` is a line-for-line equivalent of ``Bertalign.__init__`` (the
  embedding part of it) plus ``Bertalign.align_sents``, with the defaults read from the
  fetched ``aligner.py`` (max_align, top_k, win, skip, margin, len_penalty).

Embeddings: Bertalign's ``Encoder.transform`` embeds every 1..max_align-1 overlap with
``SentenceTransformer.encode`` and does **not** normalise; its default LaBSE model ends in
a Normalize layer, so the vectors it aligns are unit rows and its dot products are
cosines. Our encoders return unit rows too (``pipeline.embed``), so injecting them keeps
the kernels' assumption.

Vecalign has no package on the registry (``pip download vecalign`` finds none), so the
Vecalign-style baseline stays our reimplementation (``benchmarks/baselines.py``) and
is labelled so wherever it prints.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

from pipeline.embed import Encoder
from pipeline.evaluate import BeadPair

BERTALIGN_VERSION = "2.0.1"
#: Where ``make`` (the STAMP rule) and the bench put the fetched wheel and its unpacked copy.
DEFAULT_PEERS_DIR = Path(".cache/peers")
#: The helpers of ``bertalign/utils.py`` that ``Encoder.transform`` relies on.
_OVERLAP_NAMES = ("_OVERLAP_LINE_LIMIT", "yield_overlaps", "_layer", "_preprocess_line")
#: Settings of ``Bertalign.__init__`` that steer the alignment (read from its source).
_SETTING_NAMES = ("max_align", "top_k", "win", "skip", "margin", "len_penalty")


class PeerError(RuntimeError):
    """A peer program that cannot be fetched or loaded; the message says why and where."""


def fetch_bertalign(peers_dir: Path = DEFAULT_PEERS_DIR) -> Path:
    """The unpacked ``bertalign`` wheel, fetched with pip on first use; returns its root.

    The wheel is pure Python and marked for 3.12, so pip is told the target version and
    ``--only-binary`` (no build, no dependency resolution). Once unpacked, no network.
    """
    root = Path(peers_dir) / f"bertalign-{BERTALIGN_VERSION}"
    if (root / "bertalign" / "corelib.py").is_file():
        return root
    wheel = Path(peers_dir) / f"bertalign-{BERTALIGN_VERSION}-py3-none-any.whl"
    if not wheel.is_file():
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--python-version", "3.12", f"bertalign=={BERTALIGN_VERSION}", "-d", str(peers_dir),
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not wheel.is_file():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PeerError(f"cannot fetch bertalign=={BERTALIGN_VERSION} into {peers_dir}: {tail}")
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root)
    except (OSError, zipfile.BadZipFile) as err:
        raise PeerError(f"{wheel}: cannot unpack ({err})") from err
    return root


@dataclass(frozen=True)
class BertalignCode:
    """The parts of the fetched package the driver calls."""

    corelib: ModuleType
    yield_overlaps: Callable[[Sequence[str], int], Iterator[str]]
    defaults: dict
    root: Path


def _compile_functions(path: Path, names: Sequence[str]) -> dict:
    """Compile only the named top-level definitions of a module's source.

    ``utils.py`` imports lingua and sentence_splitter at the top for language detection
    and splitting, which the aligner does not use: its overlap helpers are taken from
    its own source without those imports.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    keep = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            keep.append(node)
        elif isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in names for t in targets):
                keep.append(node)
    found = {getattr(n, "name", None) or _assigned_name(n) for n in keep}
    if missing := set(names) - found:
        raise PeerError(f"{path}: expected definitions not found: {sorted(missing)}")
    namespace: dict = {"__name__": "bertalign_utils_subset"}
    header = "from __future__ import annotations\nfrom collections.abc import Iterator, Sequence\n"
    header += "from typing import Final\n"
    exec(compile(header, str(path), "exec"), namespace)  # noqa: S102 - the peer's own code
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return namespace


def _assigned_name(node: ast.AST) -> str | None:
    target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
    return target.id if isinstance(target, ast.Name) else None


def _init_defaults(aligner_py: Path) -> dict:
    """Keyword defaults of ``Bertalign.__init__`` as written in the fetched source.

    Python 3.11 cannot parse 3.12's ``type X = ...`` statement, so those lines are read as
    plain assignments (same line numbers); only the defaults are taken from the tree.
    """
    source = re.sub(r"^type (\w+) = ", r"\1 = ", aligner_py.read_text(encoding="utf-8"), flags=re.M)
    tree = ast.parse(source, filename=str(aligner_py))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Bertalign":
            init = next(
                n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"
            )
            args = init.args
            pairs = zip(args.kwonlyargs, args.kw_defaults, strict=True)
            values = {a.arg: ast.literal_eval(d) for a, d in pairs if a.arg in _SETTING_NAMES}
            if set(values) == set(_SETTING_NAMES):
                return values
    raise PeerError(f"{aligner_py}: Bertalign.__init__ defaults {_SETTING_NAMES} not found")


@cache
def load_bertalign(root: Path) -> BertalignCode:
    """Load the kernels and overlap helpers from an unpacked ``bertalign`` (see module)."""
    package = Path(root) / "bertalign"
    corelib_py = package / "corelib.py"
    spec = importlib.util.spec_from_file_location("bertalign_corelib", corelib_py)
    if spec is None or spec.loader is None or not corelib_py.is_file():
        raise PeerError(f"{corelib_py}: not a loadable module")
    corelib = importlib.util.module_from_spec(spec)
    # registered before running it: numba's on-disk cache of the jitted kernels pickles
    # the module's name and imports it by that name when the cache is loaded again
    sys.modules[spec.name] = corelib
    try:
        spec.loader.exec_module(corelib)
    except ImportError as err:
        del sys.modules[spec.name]
        raise PeerError(f"{corelib_py}: {err} (pip install the dev extra: numba)") from err
    helpers = _compile_functions(package / "utils.py", _OVERLAP_NAMES)
    return BertalignCode(
        corelib, helpers["yield_overlaps"], _init_defaults(package / "aligner.py"), Path(root)
    )


def bertalign_transform(
    code: BertalignCode, sents: Sequence[str], num_overlaps: int, encoder: Encoder
) -> tuple[np.ndarray, np.ndarray]:
    """``Encoder.transform`` with our encoder in place of its SentenceTransformer."""
    overlaps = list(code.yield_overlaps(sents, num_overlaps))
    sent_vecs = np.asarray(encoder.encode(overlaps), dtype=np.float32)
    embedding_dim = sent_vecs.size // (len(sents) * num_overlaps)
    sent_vecs = sent_vecs.reshape(num_overlaps, len(sents), embedding_dim)
    len_vecs = np.array([len(line.encode("utf-8")) for line in overlaps], dtype=np.int64)
    return sent_vecs, len_vecs.reshape(num_overlaps, len(sents))


def bertalign_align(
    src_sents: Sequence[str],
    tgt_sents: Sequence[str],
    encoder: Encoder,
    code: BertalignCode,
    **overrides: object,
) -> list[BeadPair]:
    """Bertalign's two passes over pre-split sentences (``is_split=True``), its defaults.

    The same calls, in the same order and with the same arguments, as
    ``Bertalign.__init__`` (embedding) and ``Bertalign.align_sents``.
    """
    cfg = {**code.defaults, **overrides}
    lib = code.corelib
    src_num, tgt_num = len(src_sents), len(tgt_sents)
    src_vecs, src_lens = bertalign_transform(code, src_sents, cfg["max_align"] - 1, encoder)
    tgt_vecs, tgt_lens = bertalign_transform(code, tgt_sents, cfg["max_align"] - 1, encoder)
    char_ratio = float(np.sum(src_lens[0]) / np.sum(tgt_lens[0]))

    scores, indices = lib.find_top_k_sents(src_vecs[0], tgt_vecs[0], k=cfg["top_k"])
    first_types = lib.get_alignment_types(2)
    first_w, first_path = lib.find_first_search_path(src_num, tgt_num)
    first_pointers = lib.first_pass_align(
        src_num, tgt_num, first_w, first_path, first_types, scores, indices
    )
    first_alignment = lib.first_back_track(
        src_num, tgt_num, first_pointers, first_path, first_types
    )
    second_types = lib.get_alignment_types(cfg["max_align"])
    second_w, second_path = lib.find_second_search_path(
        first_alignment, cfg["win"], src_num, tgt_num
    )
    second_pointers = lib.second_pass_align(
        src_vecs, tgt_vecs, src_lens, tgt_lens, second_w, second_path, second_types,
        char_ratio, cfg["skip"], margin=cfg["margin"], len_penalty=cfg["len_penalty"],
    )  # fmt: skip
    beads = lib.second_back_track(src_num, tgt_num, second_pointers, second_path, second_types)
    return [(list(map(int, s)), list(map(int, t))) for s, t in beads]


def bertalign_peer(peers_dir: Path = DEFAULT_PEERS_DIR) -> Callable[..., list[BeadPair]]:
    """``align(src, tgt, encoder) -> beads`` running the fetched Bertalign's code."""
    code = load_bertalign(fetch_bertalign(peers_dir).resolve())

    def align(src: Sequence[str], tgt: Sequence[str], encoder: Encoder) -> list[BeadPair]:
        return bertalign_align(src, tgt, encoder, code)

    align.code = code  # type: ignore[attr-defined] - the settings, for the report
    return align
