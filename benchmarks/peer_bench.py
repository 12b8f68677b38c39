"""The peer sections of `make bench`: quality tables, targets, texts per sentence, speed.

Kept apart from :mod:`benchmarks.bench` (the synthetic and encoder sections) so each
module stays small; :func:`bench_peers` is called by ``run_bench``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Echo
from benchmarks.quality import (
    BERTALIGN,
    OURS,
    TARGET_TEXTS_PER_SENTENCE,
    VECALIGN,
    load_general,
    load_mac,
    load_seed_pair,
    loco_figure,
    ours_align,
    print_set,
    print_targets,
    run_set,
    table_header,
    vecalign_reimpl,
)
from pipeline.embed import Encoder

#: Where MAC-Dev lives relative to the repository root (never copied into it).
DEFAULT_MAC_DIR = Path("../shared/dev/mac-dev")


@dataclass
class PeerOptions:
    """What the peer sections measure; ``mac_dir`` None skips MAC-Dev (and speed)."""

    mac_dir: Path | None = DEFAULT_MAC_DIR
    #: The first encoder runs every system; the others run ours only (MAC-Dev).
    mac_encoders: list[str] = field(default_factory=lambda: ["use-m", "e5-small"])
    peers_dir: Path = Path(".cache/peers")
    #: On-disk embedding cache for the quality runs (e5-small embeds ~45 sentences/s).
    embed_cache: Path | None = Path(".cache/bench-embeddings")
    #: Sentences (both sides) of the end-to-end speed pair; 0 skips it.
    speed_sentences: int = 2000
    raw: Path = Path("data/raw")
    gold: Path = Path("tests/gold")


def _load(spec: str, cache: Path | None) -> Encoder:
    from benchmarks.bench import encoder_spec
    from pipeline.embed import load_encoder

    return load_encoder(encoder_spec(spec), cache_dir=cache / spec if cache else None)


def _texts_lines(label: str, totals: dict, echo: Echo) -> None:
    ours = totals[OURS]["texts_per_sentence"]
    peer = totals.get(BERTALIGN, {}).get("texts_per_sentence")
    verdict = "OK" if ours <= TARGET_TEXTS_PER_SENTENCE else "MISSED"
    line = f"{label}: texts embedded per sentence: ours {ours:.2f}"
    line += f" (target <= {TARGET_TEXTS_PER_SENTENCE:.1f}) {verdict}"
    if peer is not None:
        line += f", bertalign {peer:.2f}"
    echo(line)


def bench_peers(options: PeerOptions, echo: Echo = print) -> dict:
    """Print the peer comparison, the targets and the speed section; returns the figures."""
    from benchmarks.baselines import MemoEncoder
    from benchmarks.peers import BERTALIGN_VERSION, bertalign_peer

    peer = bertalign_peer(options.peers_dir)
    systems = {OURS: ours_align, BERTALIGN: peer, VECALIGN: vecalign_reimpl}
    first, *others = options.mac_encoders or ["use-m"]
    memo = MemoEncoder(_load(first, options.embed_cache))
    settings = ", ".join(f"{k}={v}" for k, v in peer.code.defaults.items())
    echo(f"== peers: same sentences, same {first} embeddings ==")
    echo(f"bertalign {BERTALIGN_VERSION}: the registry's code, its defaults ({settings});")
    echo("AE = AlignerEval strict (all beads), VS/VL = Vecalign strict/lax; null! = wrong")
    echo("0-1/1-0 beads, merge/split = over-merged/over-split beads, gold0 = gold's 0-1/1-0")
    echo(table_header())
    results: dict = {}
    mac_docs = load_mac(options.mac_dir) if options.mac_dir else []
    if mac_docs:
        mac_runs = run_set(mac_docs, systems, memo)
        results["mac"] = print_set("MAC-Dev", mac_runs, echo, per_doc=True)
    seed = load_seed_pair(options.raw, options.gold)
    results["seeds"] = print_set("A/RES/75/58", run_set([seed], systems, memo), echo, False)
    general = load_general(options.gold)
    results["general"] = print_set("general", run_set([general], systems, memo), echo, False)
    echo("")
    if mac_docs:
        loco = loco_figure(options.mac_dir, memo)
        print_targets(f"MAC-Dev {first}", results["mac"], loco, echo)
        _texts_lines(f"MAC-Dev {first}", results["mac"], echo)
    _texts_lines("seeds (A/RES/75/58 via align_pair)", results["seeds"], echo)
    if mac_docs:
        echo("")
        results["mac_build"] = bench_mac_build(options.mac_dir, first, mac_runs[OURS].docs, echo)
    if mac_docs and others:
        echo("")
        echo("== ours on MAC-Dev with other encoders (embeddings cached on disk) ==")
        echo(table_header())
        results["mac_encoders"] = {}
        for spec in others:
            memo_other = MemoEncoder(_load(spec, options.embed_cache))
            runs = run_set(mac_docs, {OURS: ours_align}, memo_other)
            totals = print_set(f"MAC-Dev {spec}", runs, echo, per_doc=False)
            results["mac_encoders"][spec] = totals[OURS]
    if mac_docs and options.speed_sentences:
        from benchmarks.speed import bench_speed, concat_docs, print_speed

        echo("")
        pair = concat_docs(mac_docs, options.speed_sentences)
        model = _load(first, None)  # no disk cache: both runs embed cold
        rest = mac_docs[len(pair.name.split("+")) :]  # chapters not in the timed pair
        warm = concat_docs(rest, 10**9) if rest else None
        systems = {OURS: ours_align, BERTALIGN: peer}
        results["speed"] = bench_speed(pair, systems, model, warm)
        print_speed(results["speed"], first, echo)
    return results


#: Issue 17's targets: MAC-Dev through build (the path that writes the corpus).
TARGET_BUILD_F1 = 0.88
TARGET_BUILD_GAP = 0.01


def bench_mac_build(
    mac_dir: Path, spec: str, align_text: list[tuple[str, list, list]], echo: Echo = print
) -> dict:
    """MAC-Dev wrapped as resolutions (benchmarks.wrapped) through ``build``, beside
    align-text's beads on the same chapters (``align_text``: (chapter, beads, gold) from
    the peers table); prints issue 17's targets. Returns the build's micro scores."""
    from benchmarks.bench import encoder_spec
    from benchmarks.scoring import set_scores
    from benchmarks.wrapped import build_wrapped, mac_wrapped

    docs = mac_wrapped(mac_dir)
    run = build_wrapped(docs, model=encoder_spec(spec))
    echo(f"== MAC-Dev through build (each gold line a paragraph of a resolution; {spec}) ==")
    echo(f"{'chapter':<10} {'align-text AE-F1':>17} {'build AE-F1':>12} {'build null!':>12}")
    per_doc = {name: (test, gold) for name, test, gold in align_text}
    for doc in docs:
        ours = set_scores([per_doc[doc.name]]) if doc.name in per_doc else None
        built = set_scores([(run.beads[doc.name], doc.gold)])
        at = f"{ours['ae_f1']:.3f}" if ours else "-"
        echo(f"{doc.name:<10} {at:>17} {built['ae_f1']:>12.3f} {built['wrong_null']:>12d}")
    total = set_scores([(run.beads[d.name], d.gold) for d in docs])
    plain = set_scores([(test, gold) for _, test, gold in align_text])["ae_f1"]
    echo(
        f"{'all':<10} {plain:>17.3f} {total['ae_f1']:>12.3f} {total['wrong_null']:>12d}"
        f"  (build {run.seconds:.1f} s)"
    )
    good = total["ae_f1"] >= TARGET_BUILD_F1 and total["ae_f1"] >= plain - TARGET_BUILD_GAP
    echo(
        f"MAC-Dev through build: AE strict F1 {total['ae_f1']:.3f}, align-text {plain:.3f}: "
        f">= {TARGET_BUILD_F1} and within {TARGET_BUILD_GAP} {'OK' if good else 'MISSED'}"
    )
    limit = 2 * total["gold_null"]
    echo(
        f"MAC-Dev through build: wrong 0-1/1-0 {total['wrong_null']} (gold has "
        f"{total['gold_null']}): <= 2 x {total['gold_null']} = {limit} "
        f"{'OK' if total['wrong_null'] <= limit else 'MISSED'}"
    )
    return total
