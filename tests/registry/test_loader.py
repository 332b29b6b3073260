import json

import pytest

from helpers import run_cli, write_entry
from histodata.errors import RegistryError, UnknownDatasetError
from histodata.registry import loader

GOOD = """
id: {id}
name: {name}
organs: [breast]
stains: [h&e]
tasks: [classification]
modality: patch
year: 2020
license: CC-BY-NC-4.0
access: open
summary: Tiles of {name}.
"""


def test_extra_folder_joins_and_replaces_builtin(extra_registry):
    extra_registry(GOOD.format(id="my-tiles", name="My tiles"))
    registry = loader.load_registry()
    assert "my-tiles" in registry
    assert registry.entry("my-tiles").license == "CC-BY-NC-4.0"
    builtin_ids = [p.stem for p in loader.yaml_files(loader.builtin_dir())]
    if builtin_ids:
        extra_registry(GOOD.format(id=builtin_ids[0], name="Replaced"))
        assert loader.load_registry().get_dict(builtin_ids[0])["name"] == "Replaced"


def test_invalid_file_names_file_field_and_problem(extra_registry):
    extra_registry(GOOD.format(id="bad-one", name="Bad").replace("stains: [h&e]", "stains: [purple]"))
    with pytest.raises(RegistryError) as info:
        loader.load_registry()
    text = str(info.value)
    assert "bad-one.yaml" in text and "stains" in text and "unknown stain 'purple'" in text


def test_missing_field_and_wrong_type(tmp_path):
    write_entry(tmp_path, GOOD.format(id="a", name="A").replace("modality: patch\n", "").replace("year: 2020", "year: soon"))
    _, problems = loader.validate_folder(tmp_path)
    fields = {p.field: p.message for p in problems}
    assert fields["modality"] == "required field is missing"
    assert "year" in fields


def test_broken_yaml_reports_line(tmp_path):
    (tmp_path / "broken.yaml").write_text("id: broken\nname: [unclosed\n")
    _, problems = loader.validate_folder(tmp_path)
    assert len(problems) == 1 and "not valid YAML" in problems[0].message and "line" in problems[0].field


def test_duplicate_ids_are_refused(tmp_path):
    write_entry(tmp_path, GOOD.format(id="dup", name="One"))
    (tmp_path / "dup-copy.yaml").write_text(GOOD.format(id="dup", name="Two"))
    _, problems = loader.validate_folder(tmp_path)
    messages = " ".join(p.message for p in problems)
    assert "duplicate id 'dup'" in messages
    assert "must equal the file name" in messages


def test_duplicate_ids_across_extra_folders(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    write_entry(a, GOOD.format(id="same", name="A"))
    write_entry(b, GOOD.format(id="same", name="B"))
    monkeypatch.setenv("HISTODATA_REGISTRY", f"{a}:{b}")
    with pytest.raises(RegistryError, match="duplicate id 'same'"):
        loader.load_registry()


def test_index_is_cached_and_invalidated_by_edits(extra_registry, tmp_path):
    path = extra_registry(GOOD.format(id="cached", name="First"))
    assert loader.load_registry().get_dict("cached")["name"] == "First"
    assert list((tmp_path / "cache").glob("registry-index-*.json"))
    path.write_text(GOOD.format(id="cached", name="Second"))
    loader.clear_cache()
    assert loader.load_registry().get_dict("cached")["name"] == "Second"


def test_unknown_id_suggests_close_ids(extra_registry):
    extra_registry(GOOD.format(id="camelyon-like", name="C"))
    with pytest.raises(UnknownDatasetError, match="Did you mean: camelyon-like"):
        loader.load_registry().get_dict("camelyon-lke")


def test_builtin_registry_is_valid():
    entries, problems = loader.validate_folder(loader.builtin_dir())
    assert problems == []
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))


def test_cli_validate_invalid_folder_exits_nonzero_without_traceback(tmp_path):
    write_entry(tmp_path, GOOD.format(id="x", name="X").replace("access: open", "access: sometimes"))
    result = run_cli("registry", "validate", str(tmp_path))
    assert result.returncode == 1
    assert "x.yaml: access: unknown access 'sometimes'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_invalid_extra_folder_is_one_clear_error(tmp_path):
    write_entry(tmp_path, GOOD.format(id="x", name="X").replace("organs: [breast]", "organs: breast: bad"))
    result = run_cli("search", "--json", env={"HISTODATA_REGISTRY": str(tmp_path)})
    assert result.returncode != 0 and json.loads(result.stdout)["error"]["type"] == "RegistryError"
    assert "x.yaml" in result.stderr and "Traceback" not in result.stderr


def test_cli_schema_is_json_schema():
    result = run_cli("registry", "schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "Entry" and "sources" in schema["properties"]
    assert {"id", "name", "organs", "access"} <= set(schema["required"])
