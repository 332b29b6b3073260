"""The built wheel carries the registry YAML files and a prebuilt index that matches them."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    return next(out.glob("histodata_pathology-*.whl"))


@pytest.mark.slow
def test_wheel_ships_registry_and_index(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        shipped = sorted(Path(n).name for n in names if n.startswith("histodata/_data/registry/"))
        index = json.loads(archive.read("histodata/_data/registry_index.json"))
    in_repo = sorted(p.name for p in (ROOT / "registry").glob("*.yaml"))
    assert shipped == in_repo
    assert sorted(e["id"] for e in index["entries"]) == sorted(Path(n).stem for n in in_repo)
    assert "histodata/cli/__init__.py" in names


@pytest.mark.slow
def test_installed_wheel_uses_the_shipped_index(wheel, tmp_path):
    """Install the wheel (no deps: they are the ones of this environment) into a target folder and
    check that the shipped index is accepted, i.e. its fingerprint matches the shipped files."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, timeout=300)
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from histodata.registry import loader as l;"
            "c, fp = l.read_files(l.builtin_dir());"
            "print(l.builtin_dir().is_relative_to(sys.argv[1]), l._read_index(l.builtin_index_path(), fp) is not None)")
    result = subprocess.run([sys.executable, "-I", "-c", code, str(target)], capture_output=True, text=True,
                            check=True, cwd=tmp_path)
    assert result.stdout.split() == ["True", "True"]
