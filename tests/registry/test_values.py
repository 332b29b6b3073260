"""Registry values that used to validate and then crash or misbehave: each is refused by the model,
with the file, the field and what to do."""
from pathlib import Path

import pytest

from helpers import run_cli, write_entry
from histodata.registry.loader import validate_document

HEAD = """id: p
name: P
organs: [breast]
stains: [h&e]
tasks: [classification]
modality: patch
license: CC0-1.0
access: open
"""
GIRDER = "sources:\n  - kind: girder\n    api_url: https://h/api/v1\n    folder: f\n"


def problems(text: str) -> dict[str, str]:
    entry, found = validate_document(Path("p.yaml"), (HEAD + text).encode())
    assert (entry is None) == bool(found) or found
    return {p.field: p.message for p in found}


def refused(text: str, field: str, *words: str) -> str:
    found = problems(text)
    assert field in found, found
    for word in words:
        assert word in found[field], found[field]
    return found[field]


@pytest.mark.parametrize("text, field", [
    ('sources:\n  - kind: manual\n    files: [{name: "a\\0b.zip"}]\n', "sources[0].files[0].name"),
    ('sources:\n  - kind: manual\n    files: [{name: "a/b\\nc.zip"}]\n', "sources[0].files[0].name"),
    ('sources:\n  - kind: manual\n    files: [{name: "a\\x85.zip"}]\n', "sources[0].files[0].name"),
    ('sources:\n  - kind: zenodo\n    record: "1"\n    include: ["*.zip\\0"]\n', "sources[0].include[0]"),
    ('sources:\n  - kind: s3\n    bucket: b\n    region: r\n    prefix: "DATA/\\0"\n', "sources[0].prefix"),
    ('sources:\n  - kind: s3\n    bucket: b\n    region: r\n    checksums_file: "a\\tb.md5"\n',
     "sources[0].checksums_file"),
    (GIRDER.replace("folder: f", 'path: "/collection/x\\0"'), "sources[0].path"),
    ('sources:\n  - kind: http\n    files: [{name: a, url: "https://h/a\\r\\nX-Evil: 1"}]\n',
     "sources[0].files[0].url"),
    ('sources:\n  - kind: manual\n    files: [{name: a, id: "x\\0"}]\n', "sources[0].files[0].id"),
])
def test_control_characters_in_name_like_fields_are_refused(text, field):
    refused(text, field, "control character", "remove it")


def test_names_and_paths_stay_inside_raw_everywhere():
    refused('sources:\n  - kind: s3\n    bucket: b\n    region: r\n    checksums_file: ../x.md5\n',
            "sources[0].checksums_file", "relative")
    refused('sources:\n  - kind: s3\n    bucket: b\n    region: r\n    checksums_file: [a/x.md5, ../x.md5]\n',
            "sources[0].checksums_file", "relative")
    refused('sources:\n  - kind: s3\n    bucket: b\n    region: r\n    checksums_file: []\n',
            "sources[0].checksums_file", "non-empty list")
    refused(GIRDER + "    regions: {dir: /tmp, rois: [{name: a, xmin: 0, ymin: 0, xmax: 1, ymax: 1}]}\n",
            "sources[0].regions", "dir", "relative")
    refused(GIRDER + "    regions: {rois: [{name: ../../x, xmin: 0, ymin: 0, xmax: 1, ymax: 1}]}\n",
            "sources[0].regions", "rois[0].name", "relative")
    refused(GIRDER + "    annotations: {dir: ../up}\n", "sources[0].annotations", "dir", "relative")
    refused('sources:\n  - kind: manual\n    files: [{name: "' + "x" * 256 + '"}]\n',
            "sources[0].files[0].name", "255 bytes")
    refused('sources:\n  - kind: manual\n    files: [{name: d}, {name: d/e.bin}]\n', "sources[0]",
            "'d' is also the folder of another file ('d/e.bin')")


@pytest.mark.parametrize("value, words", [
    ("5", ("glob pattern or a list", "got 5")),
    ("[5]", ("valid string",)),
    ("[]", ("leave the field out",)),
    ('[""]', ("empty pattern",)),
    ("{a: b}", ("glob pattern or a list",)),
])
def test_include_is_a_pattern_or_a_list_of_patterns(value, words):
    refused(f'sources:\n  - kind: zenodo\n    record: "1"\n    include: {value}\n', "sources[0].include"
            + ("[0]" if value in ("[5]", '[""]') else ""), *words)


def test_one_include_pattern_is_kept_as_a_list():
    entry, found = validate_document(Path("p.yaml"), (HEAD + 'sources:\n  - kind: zenodo\n    record: "1"\n'
                                                             '    include: "*.zip"\n').encode())
    assert not found and entry["sources"][0]["include"] == ["*.zip"]


@pytest.mark.parametrize("text, field", [
    ("sources:\n  - kind: manual\n    files: [{name: a, size: true}]\n", "sources[0].files[0].size"),
    ("size: {images: true}\n", "size.images"),
    ("size: {bytes: false}\n", "size.bytes"),
    ("mpp: true\n", "mpp"),
    ("year: true\n", "year"),
    ("sources:\n  - kind: figshare\n    article: true\n", "sources[0].article"),
    ("sources:\n  - kind: figshare\n    article: 1\n    version: true\n", "sources[0].version"),
    ("sources:\n  - kind: zenodo\n    record: true\n", "sources[0].record"),
])
def test_a_bool_is_not_a_number(text, field):
    message = refused(text, field)
    assert "true" in message or "false" in message


def test_sizes_and_counts_are_not_negative():
    refused("sources:\n  - kind: manual\n    files: [{name: a, size: -1}]\n", "sources[0].files[0].size",
            "greater than or equal to 0")
    refused("size: {slides: -3}\n", "size.slides", "greater than or equal to 0")


@pytest.mark.parametrize("written, read_as", [
    ("01234567012345670123456701234567", "the number 1616895878810725189668911479"),   # octal in YAML 1.1
    ("11234567012345670123456701234567", "the number 11234567012345670123456701234567"),
    ("01234567012345670123456701234569", "may take it for a number"),     # a string in 1.1, a number in 1.2
])
def test_an_unquoted_numeric_checksum_says_to_quote_it(written, read_as):
    message = refused(f"sources:\n  - kind: manual\n    files: [{{name: a, md5: {written}}}]\n",
                      "sources[0].files[0].md5", written, read_as, f'md5: "{written}"')
    assert "without quotes" in message
    quoted = f'sources:\n  - kind: manual\n    files: [{{name: a, md5: "{written}"}}]\n'
    assert problems(quoted) == {}


@pytest.mark.parametrize("algorithm, value, words", [
    ("md5", "abc", ("32 hexadecimal", "3 characters")),
    ("sha1", "g" * 40, ("40 hexadecimal",)),
    ("sha256", "a" * 63, ("64 hexadecimal", "63 characters")),
    ("sha512", "a" * 129, ("128 hexadecimal",)),
    ("sha256", "true", ("valid string",)),
])
def test_checksums_have_their_algorithms_length_and_alphabet(algorithm, value, words):
    refused(f"sources:\n  - kind: manual\n    files: [{{name: a, {algorithm}: {value}}}]\n",
            f"sources[0].files[0].{algorithm}", *words)


@pytest.mark.parametrize("options, words", [
    ("{archive_limits: {max_size: 5}}", ("no key 'max_size'", "max_bytes, max_ratio, max_members")),
    ("{archive_limits: {max_bytes: big}}", ("max_bytes must be a positive whole number", "'big'")),
    ("{archive_limits: {max_members: 1.5}}", ("max_members must be a positive whole number",)),
    ("{archive_limits: {max_ratio: 0}}", ("max_ratio must be a positive number",)),
    ("{archive_limits: {max_ratio: true}}", ("max_ratio must be a positive number",)),
    ("{archive-limits: 5}", ("must be a mapping",)),
    ("{gunzip: 'no'}", ("'gunzip' must be true or false",)),
])
def test_archive_limits_and_input_options_are_checked(options, words):
    refused(f"standardize: {{with: raw, options: {options}}}\n", "standardize.options", *words)


def test_good_archive_limits_validate():
    assert problems("standardize: {with: raw, options: {archive_limits: {max_bytes: 1000, max_ratio: 50.5}, "
                    "gunzip: false}}\n") == {}


def test_dsa_regions_and_annotations_are_checked():
    roi = "{name: r, xmin: 0, ymin: 0, xmax: 10, ymax: 10}"
    assert problems(GIRDER + f"    regions: {{mpp: 0.25, rois: [{roi}]}}\n    annotations: true\n"
                             "    slides: false\n") == {}
    refused(GIRDER + "    regions: {rois: [{name: r, xmin: a, ymin: 0, xmax: 10, ymax: 10}]}\n",
            "sources[0].regions", "rois[0].xmin: must be a number (got 'a')")
    refused(GIRDER + "    regions: {rois: [{name: r, xmin: 5, ymin: 0, xmax: 1, ymax: 10}]}\n",
            "sources[0].regions", "xmin < xmax")
    refused(GIRDER + f"    regions: {{mpp: true, rois: [{roi}]}}\n", "sources[0].regions", "mpp", "not true")
    refused(GIRDER + "    regions: {mpp: 0.25}\n", "sources[0].regions", "rois")
    refused(GIRDER + "    regions: 5\n", "sources[0].regions", "must be a mapping")
    refused(GIRDER + "    annotations: [a]\n", "sources[0].annotations", "mapping or true")
    refused(GIRDER + "    slides: 'no'\n", "sources[0].slides")


@pytest.mark.parametrize("url, words", [
    ("example.org/a", ("absolute URL",)),
    ('"http://[::1/a"', ("not a valid URL", "IPv6")),
    ('"https://h.example:99999/a"', ("not a valid URL", "Port")),
])
def test_file_urls_are_absolute_and_parse(url, words):
    refused(f"sources:\n  - kind: http\n    files: [{{name: a, url: {url}}}]\n", "sources[0].files[0].url", *words)


def test_registry_validate_names_file_field_and_fix(tmp_path):
    write_entry(tmp_path, HEAD + "sources:\n  - kind: manual\n    files:\n"
                                 "      - {name: a.zip, size: true, md5: 01234567012345670123456701234567}\n")
    result = run_cli("registry", "validate", str(tmp_path))
    assert result.returncode not in (0, 70) and "Traceback" not in result.stderr
    output = result.stdout + result.stderr
    assert "p.yaml: sources[0].files[0].size: must be a number, not true" in output
    assert 'p.yaml: sources[0].files[0].md5: 01234567012345670123456701234567 is written without quotes' in output
