"""The wheel's build hook validates the registry with only the build requirements installed
(hatchling, pyyaml, pydantic): the models must not pull in requests, filelock, rich, pandas, ..."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs the hook's import with every runtime dependency that is not a build requirement refused.
ONLY_BUILD_REQUIREMENTS = """
import importlib.abc, sys
refused = set(sys.argv[2].split(","))
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in refused:
            raise ImportError(f"{name} is not a build requirement")
        return None
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, sys.argv[1])
from histodata.registry import loader
entries, problems = loader.validate_folder(__import__("pathlib").Path(sys.argv[1]) / "registry")
assert not problems, problems
print(len(entries))
"""


IMPORT_NAMES = {"pyyaml": "yaml", "pillow": "PIL", "girder-client": "girder_client"}


def import_names(requirements: list[str]) -> set[str]:
    names = {r.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower() for r in requirements}
    return {IMPORT_NAMES.get(n, n.replace("-", "_")) for n in names}


def runtime_only() -> set[str]:
    """The runtime dependencies a wheel build does not install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return import_names(project["project"]["dependencies"]) - import_names(project["build-system"]["requires"])


def test_the_registry_validates_with_only_the_build_requirements():
    result = subprocess.run([sys.executable, "-c", ONLY_BUILD_REQUIREMENTS, str(ROOT),
                             ",".join(sorted(runtime_only()))], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) == len(list((ROOT / "registry").glob("*.yaml")))
