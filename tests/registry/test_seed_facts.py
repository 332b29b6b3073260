"""Facts of the owners' documents (/work/shared/seeds) that the registry must keep exact: the
HER2-IHC-40x README, the HEROHE challenge page, the BCSS README and the CAMELYON data note."""
from __future__ import annotations

import pytest

from histodata.registry.loader import load_registry
from histodata.standardize.catalog import CATALOG


def entry(entry_id: str) -> dict:
    return load_registry().get_dict(entry_id)


@pytest.mark.parametrize("entry_id, images, train, test, archive", [
    ("her2-ihc-40x", 9940, 8093, 1847, "her2-ihc-40x-wsi.zip"),        # split by slide before patching
    ("her2-ihc-40x-wsi", 10997, 8897, 2200, "her2-ihc-40x-patch.zip"),  # split by patch
])
def test_her2_variants_counts_and_archives(entry_id, images, train, test, archive):
    her2 = entry(entry_id)
    assert her2["size"]["images"] == images and her2["size"]["slides"] == 107
    assert f"({train} train / {test} test)" in her2["size"]["text"]
    assert her2["classes"] == ["0", "1+", "2+", "3+"]
    (source,) = her2["sources"]
    assert source["record"] == "15179608" and source["include"] == [archive]


def test_her2_per_class_counts_of_the_slide_split_add_up():
    notes = " ".join(entry("her2-ihc-40x")["notes"])
    train, test, total = [3131, 1837, 523, 2602], [658, 316, 111, 762], [3789, 2153, 634, 3364]
    assert [a + b for a, b in zip(train, test)] == total and sum(total) == 9940
    for counts in (train, test, total):
        assert " / ".join(f"{n:,}" for n in counts) in notes
    assert "3,789 / 2,689 / 1,131 / 3,388" in " ".join(entry("her2-ihc-40x-wsi")["notes"])


def test_herohe_cases_and_case_325():
    herohe = entry("herohe")
    assert "360 cases (144 HER2-positive, 216 HER2-negative)" in herohe["summary"]
    assert herohe["size"]["slides"] == 360 + 150
    assert herohe["standardize"]["with"] == "herohe"
    assert CATALOG["herohe"].options["exclude"].default == (325,)     # the organisers' advice
    assert any("325" in note for note in herohe["notes"])


def test_bcss_has_22_codes_and_0_is_dont_care():
    bcss = entry("bcss")
    assert len(bcss["classes"]) == 22 and bcss["classes"][0] == "outside_roi"
    assert bcss["classes"][21] == "other"
    assert any("0 means outside the ROI ('don't care')" in note for note in bcss["notes"])


def test_camelyon_counts_and_published_checksum_files():
    assert entry("camelyon16")["size"]["slides"] == 399
    assert entry("camelyon17")["size"]["slides"] == 1000
    assert entry("camelyon")["size"]["slides"] == 1399
    for entry_id, manifests in (("camelyon16", "CAMELYON16/checksums.md5"),
                                ("camelyon17", "CAMELYON17/checksums.md5"),
                                ("camelyon", ["CAMELYON16/checksums.md5", "CAMELYON17/checksums.md5"])):
        assert entry(entry_id)["sources"][0]["checksums_file"] == manifests, entry_id
        assert entry(entry_id)["license"] == "CC0-1.0"
