"""Property-based tests: any registry file, however malformed, gives problems or an entry, never a crash."""
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from histodata.registry.loader import validate_document

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30))
values = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=4),
                                                          st.dictionaries(st.text(max_size=10), children, max_size=4)),
                      max_leaves=12)
FIELDS = ["id", "name", "organs", "stains", "tasks", "modality", "year", "license", "access", "sources",
          "size", "standardize", "provenance", "instructions", "doi", "citation"]
VALID = {"id": "fuzz", "name": "Fuzz", "organs": ["breast"], "stains": ["h&e"], "tasks": ["classification"],
         "modality": "wsi", "license": "CC0-1.0", "access": "open"}


def check(data: bytes) -> None:
    entry, problems = validate_document(Path("fuzz.yaml"), data)
    assert entry is not None or problems, "a rejected file must say why"
    for problem in problems:
        assert problem.file == "fuzz.yaml" and problem.message


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data):
    check(data)


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    check(text.encode("utf-8", "replace"))


@SETTINGS
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=10))
def test_random_field_values(fields):
    check(yaml.safe_dump({**VALID, **fields}, allow_unicode=True).encode())


@SETTINGS
@given(st.lists(st.dictionaries(st.sampled_from(["kind", "record", "files", "bucket", "region", "url", "name",
                                                  "md5", "size", "api_url", "folder"]), values, max_size=6),
                max_size=3))
def test_random_sources(sources):
    check(yaml.safe_dump({**VALID, "sources": sources}, allow_unicode=True).encode())


def test_yaml_bombs_and_tags_are_refused_quickly():
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
        for i in range(8))
    entry, problems = validate_document(Path("bomb.yaml"), bomb)
    assert entry is None and problems
    entry, problems = validate_document(Path("tag.yaml"), b"!!python/object/apply:os.system ['echo pwned']\n")
    assert entry is None and "not valid YAML" in problems[0].message
