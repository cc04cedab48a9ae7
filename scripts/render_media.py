#!/usr/bin/env python3
"""Check the exercise illustrations in content/media/*.svg and render them to PNG.

Usage: render_media.py [OUTDIR] [--width N] [--no-render]

Every SVG is checked first: it must parse as XML, have the agreed root element
(640x360, viewBox "0 0 640 360", role="img"), a non-empty <title> as its first
child, only the allowed elements and attributes, no references other than a
local marker url(#id), whole-number coordinates, text of at least 22 px, and a
size of at most 12 KB. Then each file is rendered with headless Chromium, one
file at a time, into OUTDIR (default /tmp/media-png). With --width N (e.g. 320)
the drawing is rendered scaled down to N pixels wide, to judge readability.

Exits non-zero with a message naming the file on any problem.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "content" / "media"
CHROMIUM = "/usr/bin/chromium"
SVG_NS = "http://www.w3.org/2000/svg"
MAX_BYTES = 12 * 1024
MIN_FONT_PX = 22

ROOT_ATTRS = {
    "xmlns": SVG_NS,  # ElementTree folds this into the tag; checked on the raw text
    "width": "640",
    "height": "360",
    "viewBox": "0 0 640 360",
    "role": "img",
}

PAINT = {
    "fill",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-dasharray",
    "stroke-opacity",
    "fill-opacity",
    "opacity",
    "transform",
}
ALLOWED: dict[str, set[str]] = {
    "svg": {"width", "height", "viewBox", "role"},
    "title": set(),
    "defs": set(),
    "marker": {
        "id",
        "viewBox",
        "markerWidth",
        "markerHeight",
        "refX",
        "refY",
        "orient",
        "markerUnits",
    },
    "g": PAINT
    | {"marker-end", "marker-start", "font-family", "font-size", "font-weight", "text-anchor"},
    "path": PAINT | {"d", "marker-end", "marker-start"},
    "line": PAINT | {"x1", "y1", "x2", "y2", "marker-end", "marker-start"},
    "polyline": PAINT | {"points", "marker-end", "marker-start"},
    "polygon": PAINT | {"points"},
    "circle": PAINT | {"cx", "cy", "r"},
    "ellipse": PAINT | {"cx", "cy", "rx", "ry"},
    "rect": PAINT | {"x", "y", "width", "height", "rx", "ry"},
    "text": PAINT | {"x", "y", "font-family", "font-size", "font-weight", "text-anchor"},
    "tspan": PAINT | {"x", "y", "dx", "dy", "font-weight"},
}
# Attributes holding coordinates: every number in them must be a whole number.
GEOMETRY = {
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "d",
    "points",
    "width",
    "height",
    "dx",
    "dy",
    "refX",
    "refY",
    "markerWidth",
    "markerHeight",
}
FONT_FAMILIES = {"sans-serif", "Arial, Helvetica, sans-serif", "Helvetica, Arial, sans-serif"}
NUMBER = re.compile(r"-?\d*\.\d+|-?\d+")
LOCAL_URL = re.compile(r"^url\(#([A-Za-z][\w-]*)\)$")


class Problem(Exception):
    pass


def local(tag: str) -> str:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        if ns != SVG_NS:
            raise Problem(f"element {tag} is outside the SVG namespace")
        return name
    return tag


def check(path: Path) -> None:
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise Problem(f"{len(raw)} bytes, more than {MAX_BYTES}")
    text = raw.decode("utf-8")
    lowered = text.lower()
    for bad in ("<!doctype", "<!entity", "<?xml-stylesheet", "javascript:", "<![cdata["):
        if bad in lowered:
            raise Problem(f"contains {bad!r}")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise Problem(f"does not parse as XML: {exc}") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise Problem(f"root element is {root.tag}, not an SVG <svg>")
    m = re.search(r"<svg\b[^>]*>", text)
    if not m or f'xmlns="{SVG_NS}"' not in m.group(0):
        raise Problem('root element lacks xmlns="http://www.w3.org/2000/svg"')
    if re.search(r"\sxmlns:\w+=", text):
        raise Problem("declares extra XML namespaces")
    for name, want in ROOT_ATTRS.items():
        if name == "xmlns":
            continue
        if root.get(name) != want:
            raise Problem(f'root attribute {name}="{root.get(name)}", expected "{want}"')
    children = list(root)
    if not children or local(children[0].tag) != "title":
        raise Problem("the first child of <svg> is not <title>")
    title = "".join(children[0].itertext()).strip()
    if not title:
        raise Problem("<title> is empty")
    if len(children[0]):
        raise Problem("<title> must hold plain text only")

    ids = {el.get("id") for el in root.iter() if el.get("id")}
    titles = 0
    for el in root.iter():
        name = local(el.tag)
        if name not in ALLOWED:
            raise Problem(f"element <{name}> is not allowed")
        if name == "title":
            titles += 1
        for attr, value in el.attrib.items():
            if attr.startswith("{"):
                raise Problem(f"namespaced attribute {attr} on <{name}> is not allowed")
            if attr not in ALLOWED[name]:
                raise Problem(f"attribute {attr} on <{name}> is not allowed")
            if "url(" in value.lower():
                m = LOCAL_URL.match(value.strip())
                if attr not in ("marker-end", "marker-start") or not m:
                    raise Problem(
                        f'{attr}="{value}" on <{name}>: '
                        'only marker-end/start="url(#id)" may use url()'
                    )
                if m.group(1) not in ids:
                    raise Problem(
                        f"{attr} on <{name}> refers to #{m.group(1)}, which does not exist"
                    )
            if attr in GEOMETRY and name != "svg" and not (name == "marker" and attr == "viewBox"):
                for num in NUMBER.findall(value):
                    if "." in num:
                        raise Problem(
                            f'{attr}="{value[:40]}" on <{name}> has a non-integer coordinate {num}'
                        )
            if attr == "font-family" and value not in FONT_FAMILIES:
                raise Problem(f'font-family="{value}" on <{name}>: use a generic sans-serif')
        if name == "text":
            size = el.get("font-size")
            parent_size = None
            for g in root.iter(f"{{{SVG_NS}}}g"):
                if el in list(g.iter()) and g.get("font-size"):
                    parent_size = g.get("font-size")
            size = size or parent_size
            if size is None or float(re.sub(r"px$", "", size)) < MIN_FONT_PX:
                raise Problem(f"<text> font-size {size} is below {MIN_FONT_PX} px")
            if not "".join(el.itertext()).strip():
                raise Problem("empty <text>")
    if titles != 1:
        raise Problem(f"{titles} <title> elements, expected exactly one")


def render(svg: Path, out: Path, width: int, tmp: Path) -> None:
    height = round(width * 360 / 640)
    source = svg
    if width != 640:
        scaled = tmp / svg.name
        text = svg.read_text(encoding="utf-8")
        text = text.replace('width="640" height="360"', f'width="{width}" height="{height}"', 1)
        scaled.write_text(text, encoding="utf-8")
        source = scaled
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'profile'}",
        f"--screenshot={out}",
        f"--window-size={width},{height}",
        source.resolve().as_uri(),
    ]
    if out.exists():
        out.unlink()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        raise Problem("chromium timed out") from None
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        raise Problem(
            f"chromium did not render it (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", nargs="?", default="/tmp/media-png")
    ap.add_argument("--width", type=int, default=640, help="render width in px (default 640)")
    ap.add_argument("--no-render", action="store_true", help="only check the SVG files")
    args = ap.parse_args(argv)

    svgs = sorted(MEDIA.glob("*.svg"))
    if not svgs:
        print(f"render_media: no SVG files in {MEDIA}", file=sys.stderr)
        return 1
    failed = False
    for svg in svgs:
        try:
            check(svg)
        except (Problem, UnicodeDecodeError) as exc:
            print(f"render_media: {svg.relative_to(ROOT)}: {exc}", file=sys.stderr)
            failed = True
    if failed:
        return 1
    sizes = [s.stat().st_size for s in svgs]
    print(f"checked {len(svgs)} SVG files, {min(sizes)}-{max(sizes)} bytes")
    if args.no_render:
        return 0
    if not Path(CHROMIUM).exists():
        print(
            f"render_media: {CHROMIUM} not found (see scripts/install-chromium.sh)", file=sys.stderr
        )
        return 1
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="render-media-") as tmpname:
        tmp = Path(tmpname)
        for svg in svgs:
            out = outdir / (svg.stem + ".png")
            try:
                render(svg, out, args.width, tmp)
            except Problem as exc:
                print(f"render_media: {svg.relative_to(ROOT)}: {exc}", file=sys.stderr)
                return 1
            print(f"rendered {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
