"""Exercise pictures: checked when the catalog loads, served with long-lived cache headers.

Each exercise ``<id>`` has ``media/<id>.svg`` in its content directory: a line drawing
whose ``<title>`` is the alt text. Only a small allowlist of SVG elements and attributes
passes (no script, no styles, no links, no animation), so a picture is inert wherever it
is shown. A picture's URL carries a hash of its bytes, so it can be cached for a year.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app

SVG_NS = "{http://www.w3.org/2000/svg}"
MAX_BYTES = 16 * 1024
ELEMENTS = {
    "svg",
    "title",
    "g",
    "path",
    "line",
    "polyline",
    "polygon",
    "circle",
    "ellipse",
    "rect",
    "text",
    "tspan",
    "defs",
    "marker",
}
# Presentation and geometry only; a url() may only point inside the picture (a marker).
ATTRIBUTES = re.compile(
    r"^(xmlns|width|height|viewBox|role|id|class|d|x|y|x1|x2|y1|y2|cx|cy|r|rx|ry|points|"
    r"transform|fill|fill-opacity|fill-rule|stroke|stroke-width|stroke-linecap|"
    r"stroke-linejoin|stroke-dasharray|stroke-opacity|opacity|font-size|font-family|"
    r"font-weight|text-anchor|dominant-baseline|markerWidth|markerHeight|refX|refY|orient|"
    r"markerUnits|marker-end|marker-start|marker-mid|preserveAspectRatio|aria-hidden)$"
)
_URL = re.compile(r"url\(\s*([^)]*)\)")


class MediaError(ValueError):
    pass


@dataclass(frozen=True)
class Picture:
    item_id: str
    data: bytes
    alt: str
    width: int
    height: int
    digest: str
    type: str = "image/svg+xml"

    @property
    def filename(self) -> str:
        return f"{self.item_id}.svg"

    def as_media(self, base_url: str) -> dict:
        return {
            "url": f"{base_url}/media/{self.filename}?v={self.digest}",
            "alt": self.alt,
            "width": self.width,
            "height": self.height,
            "type": self.type,
        }


def _local(tag: str) -> str:
    return tag[len(SVG_NS) :] if tag.startswith(SVG_NS) else tag


def load_picture(path: Path, item_id: str) -> Picture:
    """Read and check one picture; raise MediaError saying what is wrong."""
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise MediaError(f"{len(data)} bytes, over the budget of {MAX_BYTES}")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MediaError("a DOCTYPE or entity declaration is not allowed")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise MediaError(f"not well-formed XML: {exc}") from None
    if root.tag != f"{SVG_NS}svg":
        raise MediaError("the root element is not an SVG element")
    for element in root.iter():
        name = _local(element.tag)
        if name not in ELEMENTS:
            raise MediaError(f"element <{name}> is not allowed")
        for attribute, value in element.attrib.items():
            if not ATTRIBUTES.match(attribute):
                raise MediaError(f"attribute {attribute!r} on <{name}> is not allowed")
            for target in _URL.findall(value):
                if not re.fullmatch(r"#[A-Za-z][\w-]*", target.strip()):
                    raise MediaError(f"url({target}) may only point inside the picture")
    title = root.find(f"{SVG_NS}title")
    alt = " ".join((title.text or "").split()) if title is not None else ""
    if len(alt) < 10:
        raise MediaError("no <title> with alt text describing the movement")
    try:
        width, height = int(root.get("width", "")), int(root.get("height", ""))
    except ValueError:
        raise MediaError("the svg element needs whole-number width and height") from None
    digest = hashlib.sha256(data).hexdigest()[:12]
    return Picture(item_id, data, alt, width, height, digest)


bp = Blueprint("media", __name__)


@bp.get("/media/<name>")
def picture(name: str):
    """A picture by file name; the ``v`` query (a hash of its bytes) makes it immutable."""
    pictures = current_app.extensions["personalizer"].pictures()
    found = pictures.get(name)
    if found is None:
        abort(404)
    response = Response(found.data, mimetype=found.type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["ETag"] = f'"{found.digest}"'
    return response
