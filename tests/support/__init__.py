"""What the tests and the benchmark share: the example profile, test settings, and (in
``redis_tools`` and ``servers``) private Redis servers, fault proxies and gunicorn."""

from __future__ import annotations

from pathlib import Path

from personalizer.content import Catalog, Item
from personalizer.partners import new_key
from personalizer.testing import BUILTINS

__all__ = ["BUILTINS", "EXAMPLE_PROFILE", "base_config", "grown_catalog", "secret_partner"]

EXAMPLE_PROFILE = {
    "alignment": {
        "pelvic_tilt_deg": 17.5,
        "lumbar_lordosis_deg": 62,
        "pelvic_obliquity_deg": -2.0,
        "thoracic_kyphosis_deg": 48,
        "forward_head_cm": 5.5,
    },
    "symptoms": {
        "legs": "both",
        "worse_with": ["standing", "walking"],
        "eased_by": ["sitting", "leaning_forward"],
        "walking_tolerance_min": 10,
        "numbness": True,
        "weakness": False,
        "pain_score": 6,
    },
    "red_flags": ["unexplained_weight_loss"],
    "context": {"channel": "web", "locale": "en", "minutes_per_day": 15},
}


def base_config(**overrides) -> dict:
    """Test settings: built-in plugins only (installed packages must not leak in), a
    generous plugin budget so a busy machine does not turn pages into fail-safe pages, and
    no rate limit unless a test turns it on."""
    config = {
        "TESTING": True,
        "LOAD_PLUGINS": list(BUILTINS),
        "PLUGIN_BUDGET_MS": 1000,
        "REQUEST_DEADLINE_MS": 5000,
        "REDIS_URL": None,
        "RATE_LIMIT_ENABLED": False,
    }
    config.update(overrides)
    return config


def secret_partner(directory: Path, rate_limit: str, extra: str = "") -> tuple[str, dict]:
    """A partners file with one partner, ``clinic-a``, and a fresh secret key: the file's path
    and the headers that authenticate with the key. ``extra``: more YAML lines for it."""
    key, digest = new_key("sk")
    path = directory / "partners.yaml"
    path.write_text(
        f"partners:\n  - id: clinic-a\n    name: A\n    secret_key_sha256: {digest}\n"
        f"    rate_limit: {rate_limit}\n{extra}"
    )
    return str(path), {"Authorization": f"Bearer {key}"}


def grown_catalog(catalog: Catalog, factor: int) -> Catalog:
    """The catalog with every section and exercise copied ``factor - 1`` times (ids
    ``<id>-copyN``, after the originals): a large catalog, for tests and the benchmark."""
    items = list(catalog)
    for n in range(1, factor):
        for item in catalog:
            if item.kind in ("section", "exercise"):
                copy_id = f"{item.id}-copy{n}"
                items.append(Item(copy_id, item.kind, item.title, item.html, item.path, item.meta))
    return Catalog(items, f"{catalog.version}x{factor}")
