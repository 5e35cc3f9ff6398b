"""Put the offline get-pip stand-in where ansible-test looks for its cached bootstrap script."""

import re
import shutil
import sys
from pathlib import Path

import ansible_test

source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
versions = set(re.findall(r"pip='([0-9.]+)'", source.read_text()))
if not versions:
    sys.exit("install_get_pip_standin: could not find ansible-test's pip version")
cache = Path.home() / ".ansible" / "test" / "cache"
cache.mkdir(parents=True, exist_ok=True)
for version in sorted(versions):
    target = cache / f"get_pip_{version.replace('.', '_')}.py"
    shutil.copyfile(Path(__file__).with_name("get_pip_standin.py"), target)
    print(f"installed {target}")
