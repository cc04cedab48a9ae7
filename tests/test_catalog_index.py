"""The catalog's indexes answer what a scan of every item answers, in catalog order."""

from personalizer import config
from personalizer.content import Catalog, load_catalog
from tests.support import grown_catalog

CATALOG = load_catalog(config.DEFAULTS["CONTENT_DIRS"])

# index lookup -> (metadata field, whether the field is a list of words)
LOOKUPS = {
    "tagged": ("tags", True),
    "with_goal": ("goal", False),
    "on_topic": ("topic", False),
    "addressing": ("addresses", True),
    "contraindicated_by": ("contraindications", True),
    "involving": ("involves", True),
}


def scan(catalog: Catalog, field: str, many: bool, word: str) -> tuple:
    def has(item):
        value = item.meta.get(field)
        return value is not None and (word in value if many else value == word)

    return tuple(item for item in catalog if has(item))


def words(catalog: Catalog, field: str, many: bool) -> set:
    found = set()
    for item in catalog:
        value = item.meta.get(field)
        if value is not None:
            found.update(value if many else [value])
    return found


def test_every_index_matches_a_scan():
    for catalog in (CATALOG, grown_catalog(CATALOG, 3), CATALOG.copy()):
        for lookup, (field, many) in LOOKUPS.items():
            present = words(catalog, field, many)
            assert present, f"no item has {field}: the test would prove nothing"
            for word in present | {"no-such-word"}:
                assert getattr(catalog, lookup)(word) == scan(catalog, field, many, word), (
                    lookup,
                    word,
                )


def test_positions_follow_catalog_order():
    assert [CATALOG.position(item.id) for item in CATALOG] == list(range(len(CATALOG)))


def test_indexes_are_read_only():
    import pytest

    with pytest.raises(TypeError):
        CATALOG.by_goal["flexion"] = ()


def test_a_copy_and_added_items_are_indexed():
    catalog = CATALOG.with_items([], "v2")
    assert catalog.with_goal("flexion") == CATALOG.with_goal("flexion")
    extra = grown_catalog(CATALOG, 2)
    assert len(extra.with_goal("flexion")) == 2 * len(CATALOG.with_goal("flexion"))
