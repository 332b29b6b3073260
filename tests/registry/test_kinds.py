"""The table of source kinds: every consumer knows every kind, and a kind is one module plus one row."""
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

import histodata.sources
from histodata import cards, docsgen
from histodata.registry.kinds import FIELD_TYPES, KINDS, automatic_kinds, own_download_kinds
from histodata.registry.models import SOURCE_MODELS, Entry, Source
from histodata.sources import kind_download, kind_module
from histodata.sources.base import OwnDownload, Provider

ROOT = Path(__file__).resolve().parents[2]
BASE = dict(id="x-1", name="X", organs=["breast"], stains=["h&e"], tasks=["classification"], modality="patch",
            license="CC-BY-4.0", access="open")
ROWS = sorted(KINDS.values(), key=lambda row: row.name)


def minimal_source(row) -> dict:
    """A source of this kind with one value for the first field of each required group."""
    types = {field.name: field.type for field in row.fields}
    source = {"kind": row.name, **{options[0]: "https://example.org/123" if types.get(options[0]) == "url" else "123"
                                   for options in row.required}}
    if row.file_urls:
        source["files"] = [{"name": "a.bin", "url": "https://example.org/a.bin"}]
    return source


def test_rows_are_consistent():
    for name, row in KINDS.items():
        assert row.name == name
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name) and re.fullmatch(r"[a-z][a-z0-9_]*", row.module)
        assert row.summary
        assert row.automatic or not row.own_download
        declared = {field.name for field in row.fields}
        assert len(declared) == len(row.fields) and {f.type for f in row.fields} <= set(FIELD_TYPES)
        named = {name for options in row.required for name in options} | set(row.locators)
        assert named <= declared | {"files"}, f"{name}: {named - declared - {'files'}} are not its fields"
    assert automatic_kinds() == {name for name, row in KINDS.items() if row.automatic}
    assert own_download_kinds() <= automatic_kinds()


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_every_kind_has_a_provider_module(row):
    module = kind_module(row.name)
    assert module.__name__ == f"histodata.sources.{row.module}"
    assert isinstance(module, Provider), f"{module.__name__} has no list_files(source, session, entry)"
    has_download = isinstance(module, OwnDownload)
    assert has_download == row.own_download, (
        f"{row.name}: own_download={row.own_download}, its module {'has' if has_download else 'lacks'} download()")
    if row.own_download:
        assert kind_download(row.name) is module.download
    else:
        with pytest.raises(ValueError):
            kind_download(row.name)


def test_every_provider_module_has_a_row():
    modules = {row.module for row in KINDS.values()}
    for info in pkgutil.iter_modules(histodata.sources.__path__):
        module = importlib.import_module(f"histodata.sources.{info.name}")
        if hasattr(module, "list_files"):
            assert info.name in modules, f"histodata/sources/{info.name}.py lists files but has no row"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_the_registry_model_validates_each_kind_from_its_row(row):
    source = minimal_source(row)
    entry = Entry.model_validate({**BASE, "sources": [source]})
    assert entry.sources[0].kind == row.name
    assert Source(**source).kind == row.name
    for options in row.required:
        lacking = {k: v for k, v in source.items() if k not in options}
        with pytest.raises(ValidationError, match=f"a {row.name} source needs {' or '.join(options)}"):
            Entry.model_validate({**BASE, "sources": [lacking]})
    if row.file_urls:
        with pytest.raises(ValidationError, match="needs a url"):
            Entry.model_validate({**BASE, "sources": [{"kind": row.name, "files": [{"name": "a"}]}]})


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_each_kind_has_its_own_model_with_its_own_fields(row):
    model = SOURCE_MODELS[row.name]
    assert issubclass(model, Source) and type(Source(**minimal_source(row))) is model
    assert type(Source.model_validate(minimal_source(row))) is model
    for field in row.fields:
        assert model.model_fields[field.name].description == field.description
    others = {f.name for other in KINDS.values() for f in other.fields} - {f.name for f in row.fields}
    assert not others & set(model.model_fields), "a kind's model has another kind's fields"


def test_every_field_type_has_a_validator():
    from histodata.registry.models import _FIELD_TYPES

    assert set(_FIELD_TYPES) == set(FIELD_TYPES)


def test_a_field_is_validated_by_the_kind_it_belongs_to():
    with pytest.raises(ValidationError, match="article"):
        Entry.model_validate({**BASE, "sources": [{"kind": "figshare", "article": "not-a-number"}]})
    with pytest.raises(ValidationError, match="digits"):
        Entry.model_validate({**BASE, "sources": [{"kind": "zenodo", "record": "12a"}]})
    kept = {"kind": "s3", "bucket": "b", "region": "r", "article": "not-a-number"}   # not an s3 field: kept
    entry = Entry.model_validate({**BASE, "sources": [kept]})
    assert entry.model_dump(exclude_none=True)["sources"] == [kept]


def test_a_source_of_an_unknown_or_missing_kind_is_refused():
    for source in ({"kind": "carrier-pigeon"}, {"record": "1"}, {"kind": ["zenodo"]}):
        with pytest.raises(ValidationError, match="`kind` must be one of http, zenodo"):
            Entry.model_validate({**BASE, "sources": [source]})
    with pytest.raises(ValidationError, match="kind"):
        Source(kind="carrier-pigeon")


def test_sources_survive_pickling_and_copies():
    import copy
    import pickle

    source = Source(kind="zenodo", record=123, files=[{"name": "a.zip", "md5": "a" * 32}])
    for clone in (pickle.loads(pickle.dumps(source)), copy.deepcopy(source), source.model_copy()):
        assert type(clone) is type(source) and clone == source and clone.record == "123"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_cards_and_docs_show_each_kind(row):
    source = {"kind": row.name, **{field: f"v-{field}" for field in row.locators}}
    if row.automatic:
        assert cards.source_locator(source) == " ".join(f"{f}=v-{f}" for f in row.locators)
    else:     # what a person must bring: the files and patterns the source expects
        source = {"kind": row.name, "files": [{"name": "labels.xlsx"}], "patterns": ["*.mrxs"]}
        assert cards.source_locator(source) == "by hand (fetch --from DIR): labels.xlsx, *.mrxs"
    entry = {**BASE, "sources": [{"kind": row.name}]}
    support = docsgen.fetch_support(entry)
    assert support == (f"automatic ({row.name})" if row.automatic else "by hand (--from)")


def test_the_docs_describe_every_kind():
    registry = (ROOT / "docs" / "registry.md").read_text()
    kinds_table = registry.split("| `kind` | fields that locate the data |")[1]
    table = re.findall(r"^\| `([a-z0-9-]+)` \|", kinds_table, flags=re.M)
    assert sorted(table) == sorted(KINDS), "docs/registry.md's table of kinds differs from KINDS"
    headings = " ".join(re.findall(r"^### .*$", (ROOT / "docs" / "sources.md").read_text(), flags=re.M))
    missing = [name for name in KINDS if f"`{name}`" not in headings]
    assert missing == [], f"docs/sources.md has no section for {missing}"
    guide = (ROOT / "docs" / "adding-a-source.md").read_text()
    assert "histodata/registry/kinds.py" in guide and "tests/emulators/" in guide


def test_registry_problems_name_the_field_not_the_kind():
    import yaml

    from histodata.registry.loader import validate_document

    document = {**BASE, "sources": [{"kind": "zenodo", "record": "12a"}, {"kind": "s3", "bucket": "b"}]}
    _, problems = validate_document(Path("x-1.yaml"), yaml.safe_dump(document).encode())
    where = {p.field: p.message for p in problems}
    assert "digits" in where["sources[0].record"] and "needs region or endpoint" in where["sources[1]"]
