"""An example plugin: it ships one section and recommends it when walking is short."""

from pathlib import Path

from personalizer import hookimpl

VERSION = "0.1.0"
READS_FEATURES = ("walking",)
CONTENT = Path(__file__).parent / "content"


@hookimpl
def personalizer_content():
    return [CONTENT]


@hookimpl
def personalizer_candidates(features, catalog):
    if features.get("walking") not in ("very_short", "short"):
        return None
    return [
        {
            "id": "walking-diary",
            "score": 6,
            "reason": "you can walk only a short while; a diary shows your progress",
        }
    ]
