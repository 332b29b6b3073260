import pytest
from pydantic import ValidationError

from histodata.registry import vocab
from histodata.registry.models import Entry, license_restrictions

BASE = dict(id="x-1", name="X", organs=["Breast"], stains=["HE"], tasks=["classi"], modality="Patch",
            license="CC-BY-4.0", access="open")


@pytest.mark.parametrize("raw,term", [("HE", "h&e"), ("H&E", "h&e"), ("hematoxylin and eosin", "h&e"),
                                       ("Haematoxylin & Eosin", "h&e"), ("IHC", "ihc")])
def test_stain_synonyms(raw, term):
    assert vocab.normalize("stain", raw) == term


@pytest.mark.parametrize("raw,term", [("CRC", "colon"), ("Lymph node", "lymph-node"), ("Marrow", "bone-marrow"),
                                       ("oesophagus", "esophagus")])
def test_organ_synonyms(raw, term):
    assert vocab.normalize("organ", raw) == term


def test_unknown_term_lists_choices():
    with pytest.raises(ValueError, match="unknown stain 'purple'.*h&e"):
        vocab.normalize("stain", "purple")


def test_entry_normalizes_vocabularies():
    entry = Entry.model_validate(BASE)
    assert (entry.organs, entry.stains, entry.tasks, entry.modality) == (["breast"], ["h&e"], ["classification"], "patch")


def test_checksums_are_validated_and_lowercased():
    src = {"kind": "zenodo", "record": 123, "files": [{"name": "a.zip", "md5": "A" * 32, "size": 3}]}
    entry = Entry.model_validate({**BASE, "sources": [src]})
    assert entry.sources[0].record == "123"
    assert entry.sources[0].files[0].md5 == "a" * 32
    with pytest.raises(ValidationError, match="md5 must be 32 hexadecimal"):
        Entry.model_validate({**BASE, "sources": [{**src, "files": [{"name": "a.zip", "md5": "xyz"}]}]})


@pytest.mark.parametrize("name", ["../evil", "/abs/path", "a/../../b", "C:/x", "a//b"])
def test_file_names_must_stay_inside_raw(name):
    with pytest.raises(ValidationError, match="relative"):
        Entry.model_validate({**BASE, "sources": [{"kind": "manual", "files": [{"name": name}]}]})


@pytest.mark.parametrize("source,message", [
    ({"kind": "zenodo"}, "needs record"),
    ({"kind": "s3", "bucket": "b"}, "needs region or endpoint"),
    ({"kind": "http", "files": [{"name": "a"}]}, "needs a url"),
    ({"kind": "girder", "api_url": "https://x/api/v1"}, "needs folder or item or path"),
    ({"kind": "carrier-pigeon"}, "kind"),
])
def test_sources_need_their_locating_fields(source, message):
    with pytest.raises(ValidationError, match=message):
        Entry.model_validate({**BASE, "sources": [source]})


def test_gated_entries_need_instructions():
    with pytest.raises(ValidationError, match="needs `instructions`"):
        Entry.model_validate({**BASE, "access": "registration"})
    Entry.model_validate({**BASE, "access": "registration", "instructions": "Register at ..."})


def test_total_bytes_is_what_a_fetch_moves():
    files = [{"name": "a", "size": 10, "url": "http://h/a"}, {"name": "b", "size": 5, "url": "http://h/b"}]
    assert Entry.model_validate({**BASE, "sources": [{"kind": "http", "files": files}]}).total_bytes == 15
    assert Entry.model_validate({**BASE, "size": {"bytes": 99}}).total_bytes == 99
    assert Entry.model_validate(BASE).total_bytes is None
    # only the files the source's `include` keeps count; an excluded file needs no size
    record = [{"name": "keep.zip", "size": 7}, {"name": "other.zip"}, {"name": "also.zip", "size": 3}]
    kept = {"kind": "zenodo", "record": "1", "files": record, "include": ["keep.zip", "also*"]}
    assert Entry.model_validate({**BASE, "sources": [kept]}).total_bytes == 10
    # the fetched files win over a published total, and an automatic source over a manual one
    manual = {"kind": "manual", "files": [{"name": "keep.zip", "size": 1000}]}
    entry = {**BASE, "size": {"bytes": 99}, "sources": [manual, kept]}
    assert Entry.model_validate(entry).total_bytes == 10


def test_license_restrictions():
    assert license_restrictions("CC-BY-NC-ND-4.0") == ["non-commercial use only", "no derivatives"]
    assert license_restrictions("CC-BY-NC-SA-4.0") == ["non-commercial use only", "share-alike"]
    assert license_restrictions("CC-BY-4.0") == []
