"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test runs `python get_pip_<version>.py [pip options] pip==X ...` in each fresh virtual environment
it creates for sanity/units. The real script comes from a host we cannot reach; this one gets pip from the
interpreter's own ensurepip and then lets that pip install the pinned packages from the package index.
"""

import os
import subprocess
import sys

# get-pip.py options that pip install does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

os.environ.pop("PIP_CONFIG_FILE", None)
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
