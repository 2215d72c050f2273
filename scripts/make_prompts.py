#!/usr/bin/env python3
"""Generate the IVR prompt WAVs from ivr/prompt_catalog.py with espeak-ng and sox.

    apt-get install -y espeak-ng sox
    python scripts/make_prompts.py            # (re)make what changed
    python scripts/make_prompts.py --force    # remake everything
    python scripts/make_prompts.py --check    # exit 1 if a file is missing or stale

Output: ivr/prompts/<lang>/<name>.wav, 16 kHz mono 16-bit PCM, leading and trailing
silence trimmed (the media plane concatenates fragments, so any padding would be heard
as a gap between "twenty" and "three"). ivr/prompts/manifest.json records a hash of the
voice settings and text of each file, so only changed entries are remade and --check can
tell a stale file. The WAVs are committed: the product never runs espeak.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.prompt_catalog import catalog
from ivr.speech import LANGS

OUT = ROOT / "ivr" / "prompts"
MANIFEST = OUT / "manifest.json"
VOICES = {"en": ("en-us", 165), "zh": ("cmn", 150)}    # espeak voice, words per minute
GAP_S = 0.25                                          # between segments of one prompt
TRIM = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _segments(lang: str, text: object) -> list[tuple[str, str]]:
    if isinstance(text, str):
        return [(lang, text)]
    return [(str(v), str(t)) for v, t in text]  # type: ignore[union-attr]


def _key(lang: str, text: object) -> str:
    spec = [(VOICES[v], t) for v, t in _segments(lang, text)]
    return hashlib.sha256(json.dumps([spec, TRIM, GAP_S]).encode()).hexdigest()[:16]


def _make(lang: str, text: object, dest: Path, tmp: Path) -> None:
    parts = []
    for i, (voice_lang, words) in enumerate(_segments(lang, text)):
        voice, speed = VOICES[voice_lang]
        raw, part = tmp / f"raw{i}.wav", tmp / f"part{i}.wav"
        _run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), words])
        _run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(part), *TRIM])
        parts.append(part)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if len(parts) == 1:
        shutil.copyfile(parts[0], dest)
        return
    gap = tmp / "gap.wav"
    _run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "trim", "0", str(GAP_S)])
    seq: list[str] = []
    for p in parts:
        seq += [str(p), str(gap)]
    _run(["sox", *seq[:-1], str(dest)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--force", action="store_true", help="remake every file")
    ap.add_argument("--check", action="store_true", help="only report missing/stale files")
    args = ap.parse_args(argv)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    wanted = {(lang, name): text for lang in LANGS for name, text in catalog(lang).items()}
    todo = [(lang, name) for (lang, name), text in sorted(wanted.items())
            if args.force or manifest.get(f"{lang}/{name}") != _key(lang, text)
            or not (OUT / lang / f"{name}.wav").exists()]
    extra = sorted(p for p in OUT.glob("*/*.wav")
                   if (p.parent.name, p.stem) not in wanted)
    if args.check:
        for lang, name in todo:
            print(f"missing or stale: {lang}/{name}.wav")
        for p in extra:
            print(f"not in the catalog: {p.relative_to(ROOT)}")
        return 1 if todo or extra else 0
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install -y espeak-ng sox", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory() as tmpdir:
        for lang, name in todo:
            _make(lang, wanted[(lang, name)], OUT / lang / f"{name}.wav", Path(tmpdir))
            manifest[f"{lang}/{name}"] = _key(lang, wanted[(lang, name)])
    for p in extra:
        p.unlink()
        manifest.pop(f"{p.parent.name}/{p.stem}", None)
    MANIFEST.write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.glob("*/*.wav"))
    print(f"made {len(todo)}, removed {len(extra)}, {len(wanted)} files, "
          f"{total / 1e6:.1f} MB in {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
