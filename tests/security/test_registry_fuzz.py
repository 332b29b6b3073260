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


# ----------------------------------------------------------------------------- typed values, end to end
# Values shaped like what the registry can say (names, patterns, sizes, checksums, DSA regions, archive
# limits), hostile ones included: the model accepts an entry or says why, an accepted entry's stored
# form validates again unchanged, and no command on an accepted entry reaches "this is a bug" (70).
good_names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,8}(/[A-Za-z0-9_][A-Za-z0-9_.\-]{0,8}){0,2}", fullmatch=True)
names = st.one_of(good_names, good_names, st.text(max_size=12), st.integers(),
                  st.sampled_from(["a.zip", "d", "d/e.bin", "a\x00b", "../x", "/abs", "x" * 300, "ok/\u2028.png",
                                   "C:/w", "*.zip", "[", "**/"]))
numbers = st.one_of(st.integers(0, 10**6), st.integers(-5, 10**15), st.booleans(), st.floats(),
                    st.sampled_from(["12", "big", None]))
checksums = st.one_of(st.text("0123456789abcdef", min_size=31, max_size=33), st.integers(), st.booleans(),
                      st.sampled_from(["0123456701234567012345670123456", "A" * 32]))
files = st.fixed_dictionaries({"name": names}, optional={
    "size": numbers, "md5": checksums, "url": st.sampled_from(["https://h.example/a", "https://h.example/b?x=1", "nope", "ftp://f/x\x00",
                            "s3://bucket/key", "http://[::1", "https://h.example:99999/a"]),
    "id": st.one_of(st.integers(), st.booleans(), st.text(max_size=6))})
roi = st.fixed_dictionaries({"name": names, "xmin": numbers, "ymin": numbers, "xmax": numbers, "ymax": numbers})
urls = st.one_of(st.sampled_from(["https://h.example/a", "http://[::1/a", "https://h.example:99999/a",
                                  "https://h.example:0/a", "https://user:pw@h.example/a", "s3://b/k"]),
                 st.builds("https://h.example/{}".format, st.text(max_size=8)))
typed_sources = st.one_of(
    st.fixed_dictionaries({"kind": st.just("http"), "files": st.lists(
        st.fixed_dictionaries({"name": good_names, "url": urls}, optional={"size": numbers}), max_size=2)}),
    st.fixed_dictionaries({"kind": st.just("http"), "files": st.lists(files, max_size=3)},
                          optional={"include": st.one_of(st.integers(), names, st.lists(names, max_size=2))}),
    st.fixed_dictionaries({"kind": st.just("manual"), "files": st.lists(files, max_size=3)}),
    st.fixed_dictionaries({"kind": st.just("zenodo"), "record": st.one_of(st.text("0123456789", min_size=1),
                                                                           numbers)},
                          optional={"include": st.one_of(st.integers(), names, st.lists(names, max_size=2)),
                                    "files": st.lists(files, max_size=2)}),
    st.fixed_dictionaries({"kind": st.just("s3"), "bucket": names, "region": names},
                          optional={"prefix": names, "checksums_file": names}),
    st.fixed_dictionaries({"kind": st.just("girder"), "api_url": st.just("https://h.example/api/v1"),
                           "folder": names},
                          optional={"regions": st.one_of(numbers, st.fixed_dictionaries(
                                        {"rois": st.lists(roi, max_size=2)},
                                        optional={"mpp": numbers, "magnification": numbers, "dir": names})),
                                    "annotations": st.one_of(st.booleans(), st.fixed_dictionaries(
                                        {}, optional={"dir": names, "items": st.lists(names, max_size=2)})),
                                    "slides": st.one_of(st.booleans(), names)}),
)
limits = st.dictionaries(st.sampled_from(["max_bytes", "max_ratio", "max_members", "max_size"]), numbers,
                         max_size=3)
standardize = st.fixed_dictionaries({"with": st.sampled_from(["raw", "folder-per-class", "nope", 5])}, optional={
    "options": st.fixed_dictionaries({}, optional={"archive_limits": st.one_of(limits, numbers),
                                                   "gunzip": st.one_of(st.booleans(), names)})})
typed_entries = st.fixed_dictionaries({"sources": st.lists(typed_sources, min_size=1, max_size=2)}, optional={
    "standardize": standardize, "size": st.dictionaries(st.sampled_from(["bytes", "images"]), numbers, max_size=2),
    "mpp": st.one_of(st.floats(0.1, 2), numbers), "year": st.one_of(st.integers(1900, 2100), numbers)})


def accepted(document: dict) -> dict | None:
    """The entry the model makes of `document` (None when refused, with a message per problem)."""
    text = yaml.safe_dump(document, allow_unicode=True)
    entry, problems = validate_document(Path("fuzz.yaml"), text.encode("utf-8", "surrogatepass"))
    assert entry is not None or problems, "a rejected file must say why"
    assert all(p.message and p.file == "fuzz.yaml" for p in problems)
    return entry if not problems else None


@settings(max_examples=400, deadline=None)
@given(typed_entries)
def test_typed_values_are_accepted_or_refused_and_round_trip(fields):
    from histodata.registry.loader import entry_to_dict
    from histodata.registry.models import Entry

    entry = accepted({**VALID, **fields})
    if entry is not None:      # the stored form (the index) validates again to the same entry
        assert entry_to_dict(Entry.model_validate(entry)) == entry


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed_entries)
def test_commands_on_an_accepted_entry_never_exit_70(extra_registry, monkeypatch, capsys, fields):
    from histodata.cli import main

    entry = accepted({**VALID, **fields})
    if entry is None:
        return
    monkeypatch.setenv("HISTODATA_OFFLINE", "1")        # no network: fetch stops with a clear error
    extra_registry(yaml.safe_dump({**VALID, **fields}, allow_unicode=True))
    for argv in (["info", "fuzz"], ["search", "fuzz"], ["cite", "fuzz"], ["fetch", "fuzz", "--dry-run"],
                 ["fetch", "fuzz"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code != 70, f"{argv}: {err}"
        assert "Traceback" not in err
