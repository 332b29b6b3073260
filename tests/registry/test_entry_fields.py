"""What `registry validate` says about an entry's own fields: a misspelt key, a URL that is not
one, and every bad item of a list at once."""
from __future__ import annotations

import json

import pytest
from emulators.entries import entry_yaml
from helpers import run_cli


def problems(tmp_path, **fields) -> list[dict]:
    folder = tmp_path / "reg"
    folder.mkdir(exist_ok=True)
    text = entry_yaml("checked", {"kind": "http", "files": [{"name": "a.zip", "url": "https://example.org/a.zip"}]})
    extra = "".join(f"\n{key}: {json.dumps(value)}" for key, value in fields.items())
    (folder / "checked.yaml").write_text(text + extra + "\n")
    result = run_cli("registry", "validate", str(folder), "--json")
    return json.loads(result.stdout)["problems"]


@pytest.mark.parametrize(("key", "suggestion"), [("licence", "license"), ("sorces", "sources"),
                                                 ("homepge", "homepage")])
def test_a_misspelt_top_level_key_is_refused_with_the_right_name(tmp_path, key, suggestion):
    found = problems(tmp_path, **{key: "x"})
    assert [p["field"] for p in found] == [key]
    assert f"did you mean `{suggestion}`?" in found[0]["message"]


@pytest.mark.parametrize("field", ["homepage", "paper", "license_url"])
def test_a_link_must_be_an_absolute_url(tmp_path, field):
    found = problems(tmp_path, **{field: "www.example.org/page"})
    assert [p["field"] for p in found] == [field]
    assert "absolute URL" in found[0]["message"]
    assert problems(tmp_path, **{field: "https://www.example.org/page"}) == []


def test_every_bad_term_of_a_list_is_named(tmp_path):
    folder = tmp_path / "reg"
    folder.mkdir()
    text = entry_yaml("checked", {"kind": "http", "files": [{"name": "a.zip", "url": "https://example.org/a.zip"}]})
    (folder / "checked.yaml").write_text(text.replace('"organs": ["breast"]', '"organs": ["brest", "lugn"]')
                                         .replace('organs: ["breast"]', 'organs: ["brest", "lugn"]'))
    result = run_cli("registry", "validate", str(folder), "--json")
    found = json.loads(result.stdout)["problems"]
    assert result.returncode == 1 and len(found) == 1
    assert "'brest'" in found[0]["message"] and "'lugn'" in found[0]["message"]
