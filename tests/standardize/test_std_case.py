"""The declarative standardizer test case itself: generated inputs, and a wrong expectation fails."""
from __future__ import annotations

import pytest
from std_case import StandardizerCase, png, zipped


def test_a_case_from_generated_files_only():
    StandardizerCase(
        "folder-per-class", dataset="generated", options={"splits": {"val": "validation"}},
        files={"tiles.zip": zipped({"tiles/train/ADI/1.png": png((40, 30)), "tiles/train/TUM/1.png": png((40, 30)),
                                    "tiles/val/TUM/2.png": png((20, 10))}),
               "notes.txt": "not an image"},
        samples=3, splits={"train": 2, "validation": 1}, labels={"ADI": 1, "TUM": 2}, classes=["ADI", "TUM"],
        class_map={"folders": {"ADI": "ADI", "TUM": "TUM"}},
        rows={"tiles/val/TUM/2": {"label": "TUM", "width": 20, "height": 10, "source": "tiles.zip",
                                  "mask": None}},
        columns={"label": ["ADI", "TUM", "TUM"]}, column_names={"sample_id", "width"},
        record={"standardizer": "folder-per-class", "skipped_images": 0},
    ).run()


@pytest.mark.parametrize("expect", [
    {"samples": 3}, {"splits": {"x": 2}}, {"labels": {"a": 1}}, {"classes": ["a"]}, {"changed": False},
    {"class_map": {"labels": ["a"]}}, {"rows": {"b": {"bytes": 4}}}, {"rows": {"b": {"bytes": None}}},
    {"columns": {"image": ["raw/b"]}}, {"column_names": {"nothing"}}, {"record": {"reason": "another"}},
    {"error": (ValueError, "never")},
])
def test_a_wrong_expectation_fails(expect):
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        StandardizerCase("raw", dataset="wrong", files={"b": b"123", "c": b"1"}, options={"reason": "why"},
                         **expect).run()
