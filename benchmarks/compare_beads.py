"""Beads of this checkout on the dev sets, saved or compared with a saved run.

Why: a change meant to make the aligner faster must not change what it outputs. This
writes the beads (indices, score, margin) of every MAC-Dev chapter, of their 2,403-
sentence concatenation (the end-to-end speed pair), of tests/gold/general (align_texts)
and of A/RES/75/58 (align_pair) to a JSON file, or compares them with such a file from
another checkout. MAC-Dev is read in place, never copied; embeddings come from the
bench's on-disk cache, so both checkouts see the same vectors.

    PYTHONPATH=. python benchmarks/compare_beads.py --save /tmp/before.json   # old code
    PYTHONPATH=. python benchmarks/compare_beads.py --against /tmp/before.json
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from benchmarks.bench import EN_7558, ZH_7558
from benchmarks.quality import load_general, load_mac
from benchmarks.speed import concat_docs


def current_beads(mac_dir: Path, cache: Path) -> dict[str, list]:
    from pipeline.align import AlignParams, align_texts
    from pipeline.align.document import align_pair
    from pipeline.embed import load_encoder
    from pipeline.extract import extract_file
    from pipeline.records import DocumentPair

    encoder = load_encoder("use-m", cache_dir=cache)
    docs = load_mac(mac_dir)
    pieces = {d.name: (d.src, d.tgt) for d in docs}
    pair = concat_docs(docs, 2000)
    pieces[pair.name] = (pair.src, pair.tgt)
    general = load_general(Path("tests/gold"))
    pieces["general"] = (general.src, general.tgt)
    out = {
        name: align_texts(src, tgt, encoder, AlignParams()).beads
        for name, (src, tgt) in pieces.items()
    }
    raw = Path("data/raw")
    en, zh = extract_file(raw / EN_7558), extract_file(raw / ZH_7558)
    out["A/RES/75/58"] = align_pair(DocumentPair(en.symbol, en, zh), encoder).beads
    return {k: [[b.src, b.tgt, b.score, b.margin] for b in v] for k, v in out.items()}


@click.command()
@click.option("--mac-dir", type=click.Path(path_type=Path), default=Path("../shared/dev/mac-dev"))
@click.option(
    "--cache", type=click.Path(path_type=Path), default=Path(".cache/bench-embeddings/use-m")
)
@click.option("--save", type=click.Path(path_type=Path), help="Write the beads here.")
@click.option("--against", type=click.Path(path_type=Path), help="Compare with this file.")
def main(mac_dir: Path, cache: Path, save: Path | None, against: Path | None) -> None:
    """Save the beads of this checkout, or compare them with a saved file."""
    beads = current_beads(mac_dir, cache)
    if save:
        save.write_text(json.dumps(beads), encoding="utf-8")
    if against:
        before = json.loads(against.read_text(encoding="utf-8"))
        same_all = before.keys() == beads.keys()
        for name, now in beads.items():
            old = before.get(name, [])
            differ = sum(a != b for a, b in zip(old, now, strict=False)) + abs(len(old) - len(now))
            same_all &= differ == 0
            click.echo(f"{name:<24} {len(old):>5} -> {len(now):>5} beads, {differ} differ")
        click.echo("identical" if same_all else "DIFFERENT")
        if not same_all:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
