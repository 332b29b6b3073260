"""The standardizers describe themselves and are found in one place: the catalog, what the registry
validates `standardize` blocks against, what the docs list, and what the code reads."""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from helpers import run_cli, write_entry
from histodata.errors import StandardizeError
from histodata.layout import dataset_paths
from histodata.record import DatasetRecord
from histodata.registry.models import Entry, Standardize
from histodata.standardize import CATALOG, STANDARDIZERS, catalog, standardize_dataset
from histodata.standardize.spec import Option, Standardizer

PACKAGE = Path(__file__).resolve().parents[2] / "histodata"
STANDARDIZE = PACKAGE / "standardize"
HELPERS = {"__init__", "base", "catalog", "media", "nuclei_mat", "optional", "outputs", "spec"}


def entry(standardize: dict | None) -> dict:
    data = {"id": "x", "name": "X", "organs": ["colon"], "stains": ["h&e"], "tasks": ["classification"],
            "modality": "patch", "access": "open"}
    return {**data, "standardize": standardize} if standardize is not None else data


def options_read(path: Path) -> set[str]:
    """Every literal NAME of `ctx.option(NAME)` / `self.option(NAME)` in a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "option" \
                and node.args and isinstance(node.args[0], ast.Constant):
            found.add(node.args[0].value)
    return found


# ----------------------------------------------------------------------------- the descriptions
def test_one_description_per_standardizer_module_and_the_catalog_finds_them_all():
    modules = sorted(p.stem for p in STANDARDIZE.glob("*.py") if p.stem not in HELPERS)
    described = {}
    for name in modules:
        module = importlib.import_module(f"histodata.standardize.{name}")
        standardizer = module.STANDARDIZER
        assert isinstance(standardizer, Standardizer) and standardizer.name.replace("-", "_") == name
        described[standardizer.name] = standardizer
    assert dict(CATALOG) == described
    assert STANDARDIZERS == tuple(CATALOG) == catalog.NAMES
    for standardizer in CATALOG.values():
        assert standardizer.summary and "\n" not in standardizer.summary and callable(standardizer.run)
        for key, option in standardizer.options.items():
            assert isinstance(option, Option) and option.description and "\n" not in option.description, key
            assert option.shown_default()


def test_every_option_the_code_reads_is_declared():
    shared = options_read(STANDARDIZE / "base.py")
    assert shared == {"archive_limits", "gunzip"}
    for standardizer in CATALOG.values():
        path = STANDARDIZE / f"{standardizer.name.replace('-', '_')}.py"
        text = path.read_text()
        read = options_read(path)
        if "ctx.inputs()" in text:
            read |= shared
        elif "ctx.extract(" in text:
            read.add("archive_limits")
        assert read <= set(standardizer.options), (standardizer.name, read - set(standardizer.options))


def test_reading_an_undeclared_option_is_a_bug_not_a_silent_none(tmp_path):
    from histodata.standardize.base import Context

    ctx = Context(entry={}, paths=dataset_paths("x"), options={"read-sizes": False}, record=DatasetRecord(),
                  standardizer=CATALOG["folder-per-class"])
    assert ctx.option("read_sizes") is False and ctx.option("classes") is None
    assert Context(entry={}, paths=dataset_paths("x"), options={}, record=DatasetRecord(),
                   standardizer=CATALOG["herohe"]).option("exclude") == (325,)
    with pytest.raises(StandardizeError, match="reads option 'splitz', which it does not declare"):
        ctx.option("splitz")


def test_every_registry_option_in_use_is_declared():
    for path in sorted((PACKAGE.parent / "registry").glob("*.yaml")):
        block = yaml.safe_load(path.read_text()).get("standardize") or {}
        if block:
            assert catalog.problem(block["with"], block.get("options") or {}) is None, path.name


# ----------------------------------------------------------------------------- registry validation
def test_unknown_standardizer_is_rejected_with_the_valid_names():
    with pytest.raises(ValidationError) as info:
        Entry.model_validate(entry({"with": "nonsense"}))
    (error,) = info.value.errors()
    assert error["loc"] == ("standardize", "with")
    assert "unknown standardizer 'nonsense'; use one of: " + ", ".join(STANDARDIZERS) in error["msg"]


def test_unknown_option_is_rejected_with_the_options_it_takes():
    with pytest.raises(ValidationError) as info:
        Standardize.model_validate({"with": "herohe", "options": {"exclude": [], "excluded": [1], "tumour": 1}})
    (error,) = info.value.errors()
    assert error["loc"] == ("options",)
    assert "unknown options 'excluded', 'tumour' for standardizer 'herohe'; it takes: exclude, archive_limits, " \
           "gunzip" in error["msg"]


def test_a_misspelt_key_of_the_block_is_rejected():
    with pytest.raises(ValidationError, match="option"):
        Standardize.model_validate({"with": "pcam", "option": {"splits": {}}})


@pytest.mark.parametrize("block", [
    {"with": "raw"},
    {"with": "raw", "options": {"reason": "no layout yet", "extract": True}},
    {"with": "folder-per-class", "options": {"splits": {"a": "train", "b": None}, "read-sizes": False,
                                             "root": "x", "archive_limits": {"max_ratio": 1000}}},
    {"with": "camelyon", "options": {"tumor_groups": ["_0"], "exclusion_groups": [], "gunzip": False}},
    {"with": "bcss", "options": {"test_institutions": ["OL"]}},
    {"with": "pcam", "options": {"splits": {"valid": "validation"}}},
])
def test_valid_blocks_pass(block):
    parsed = Entry.model_validate(entry(block)).standardize
    assert parsed.with_ == block["with"] and parsed.options == block.get("options", {})


def test_registry_validate_cli_exits_1_naming_the_valid_choices(tmp_path):
    base = yaml.safe_dump(entry(None), sort_keys=False)
    write_entry(tmp_path, base.replace("id: x", "id: bad-name") + "standardize: {with: nonsense}\n")
    write_entry(tmp_path, base.replace("id: x", "id: bad-option")
                + "standardize: {with: folder-per-class, options: {splitz: {a: b}}}\n")
    write_entry(tmp_path, base.replace("id: x", "id: good") + "standardize: {with: pcam}\n")
    result = run_cli("registry", "validate", str(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "bad-name.yaml: standardize.with: unknown standardizer 'nonsense'; use one of: folder-per-class, " \
           "camelyon," in result.stderr
    assert "bad-option.yaml: standardize.options: unknown option 'splitz' for standardizer 'folder-per-class'; " \
           "it takes: splits, split, classes, read_sizes" in result.stderr
    assert "good.yaml" not in result.stderr and "2 problem(s)" in result.stderr
    assert "Traceback" not in result.stderr


def test_standardize_checks_the_block_too_when_the_entry_skipped_validation():
    paths = dataset_paths("x")
    paths.raw.mkdir(parents=True)
    with pytest.raises(StandardizeError, match="unknown option 'splitz' for standardizer 'folder-per-class'"):
        standardize_dataset(entry({"with": "folder-per-class", "options": {"splitz": {}}}), paths, quiet=True)


# ----------------------------------------------------------------------------- import graph and docs
def test_the_catalog_is_light_and_the_registry_models_import_it_without_a_cycle():
    code = ("import sys; import histodata.registry.models; "
            "heavy = [m for m in ('numpy', 'pandas', 'PIL', 'h5py', 'scipy') if m in sys.modules]; "
            "assert 'histodata.standardize.catalog' in sys.modules and not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_no_standardize_module_imports_the_registry():
    for path in STANDARDIZE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):   # top level and inside functions
            if isinstance(node, ast.ImportFrom):
                name = "." * node.level + (node.module or "")
                assert not name.startswith(("..registry", "histodata.registry")), (path.name, name)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("histodata.registry") for a in node.names), path.name


def test_docs_list_every_standardizer_with_its_options():
    from histodata import docsgen

    page = docsgen.standardizers_page()
    for standardizer in CATALOG.values():
        assert f"## `{standardizer.name}`" in page
        for key in standardizer.options:
            assert f"| `{key}` |" in page
    assert "| `exclude` | `[325]` |" in page
    assert "standardizers.md" in (PACKAGE.parent / "mkdocs.yml").read_text()
    assert "standardizers_page()" in (PACKAGE.parent / "mkdocs_hooks.py").read_text()
    dataset = docsgen.dataset_page({**entry({"with": "pcam"}), "sources": [], "license": "CC0-1.0"})
    assert CATALOG["pcam"].summary in dataset


def every_option():
    from histodata.standardize.catalog import CATALOG

    return [(s.name, key, option) for s in CATALOG.values() for key, option in s.options.items()]


@pytest.mark.parametrize(("name", "key", "option"), every_option(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_option_declares_its_shape_and_a_wrong_shape_is_refused(name, key, option):
    from histodata.standardize.catalog import options_problem
    from histodata.standardize.spec import VALUE_KINDS

    assert option.kind in VALUE_KINDS, f"{name}.{key} declares no shape"
    wrong = 5 if option.kind != "a list|a mapping" and "a text" not in option.kind else True
    if option.kind == "a text":
        wrong = ["not", "text"]
    problem = options_problem(name, {key: wrong})
    assert problem and key in problem and "must be" in problem
    if option.default is not None:
        assert options_problem(name, {key: list(option.default) if isinstance(option.default, tuple)
                                      else option.default}) is None
