"""Write the hashed 8-word runs of the source article, for the copy check in the tests.

The content tests must not need the article itself (it lives outside the repository), so
they compare the content against a committed list of hashes instead:
``tests/data/article_runs.txt`` holds one hash per line for every run of 8 consecutive
words of the article. Regenerate it whenever the article changes:

    .venv/bin/python scripts/article_runs.py ../shared/source/stenosis-article.txt

Normalization (``tests/test_content_text.py`` imports ``words`` and ``run_hashes`` from
this file, so content is hashed exactly the same way):

1. the text is lowercased;
2. the typographic apostrophe (U+2019) becomes ``'``, then every ``'`` is deleted, so
   "it's" and "it’s" both become "its";
3. words are the maximal runs of ``a-z`` and ``0-9``; everything else (spaces, line
   breaks, punctuation, dashes, quotes, Markdown marks, other characters) only separates
   words;
4. a run is 8 consecutive words joined by single spaces, e.g.
   "you may not be able to widen the";
5. a run's hash is the SHA-256 of its UTF-8 bytes, written as 64 lowercase hex digits.

The output has one hash per line, sorted, without duplicates, ending with a newline.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

RUN_LENGTH = 8
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "article_runs.txt"

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """The text's words after steps 1-3 of the normalization."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    return _WORD.findall(text)


def run_hash(run: list[str] | tuple[str, ...]) -> str:
    """Step 5: the SHA-256 hex digest of one run of words."""
    return hashlib.sha256(" ".join(run).encode("utf-8")).hexdigest()


def run_hashes(text: str, n: int = RUN_LENGTH) -> set[str]:
    """The hash of every run of ``n`` consecutive words of ``text``."""
    ws = words(text)
    return {run_hash(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("article", type=Path, help="the source article (plain text)")
    parser.add_argument(
        "output",
        type=Path,
        nargs="?",
        default=DEFAULT_OUTPUT,
        help=f"where to write the hashes (default: {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    hashes = sorted(run_hashes(args.article.read_text(encoding="utf-8")))
    if not hashes:
        print(f"{args.article}: fewer than {RUN_LENGTH} words, nothing written", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(h + "\n" for h in hashes), encoding="utf-8")
    print(f"{args.output}: {len(hashes)} runs of {RUN_LENGTH} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
