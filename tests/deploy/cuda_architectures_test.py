#!/usr/bin/env python3
"""The CUDA image's GPU architectures: its CUDA_ARCHITECTURES build ARG
covers every architecture candor supports, and the image's CUDA release
builds exactly that code from it.

  cuda_architectures_test.py DOCKERFILE NVCC CHECK_FATBIN_ARCH_PY

Reads the ARG's default from the Dockerfile, requires machine code for
sm_75, 80, 86, 89, 90, 100 and 120 and PTX of the newest, turns the CMake
list into nvcc -gencode options as CMake does ("NN-real": sm_NN machine code,
"NN-virtual": compute_NN PTX, "NN": both), compiles a kernel with them and
reads the object's .nv_fatbin (with scripts/gpu/check_fatbin_arch.py, no
cuobjdump needed): it must embed exactly that code. Exits 77 (skipped) when
this nvcc is not the image's CUDA release.
"""

import importlib.util
import os
import re
import subprocess
import sys
import tempfile

REQUIRED_SASS = {75, 80, 86, 89, 90, 100, 120}
KERNEL = "__global__ void scale(float* x, float a) { x[threadIdx.x] *= a; }\n"


def fail(msg):
    print(f"cuda_architectures_test: FAILED: {msg}")
    sys.exit(1)


def main(dockerfile, nvcc, checker):
    with open(dockerfile, encoding="utf-8") as f:
        text = f.read()
    arg = re.search(r'(?m)^ARG CUDA_ARCHITECTURES="([^"]+)"', text)
    if not arg:
        fail(f"{dockerfile}: no ARG CUDA_ARCHITECTURES=\"...\" default")
    if "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}" not in text:
        fail(f"{dockerfile}: the build step does not pass CUDA_ARCHITECTURES to CMake")
    image_cuda = re.search(r"(?m)^FROM nvidia/cuda:(\d+\.\d+)", text).group(1)
    version = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=True).stdout
    nvcc_cuda = re.search(r"release (\d+\.\d+)", version).group(1)
    if nvcc_cuda != image_cuda:
        print(f"cuda_architectures_test: nvcc is CUDA {nvcc_cuda}, the image {image_cuda}: skipped")
        return 77

    sass, ptx, gencode = set(), set(), []
    for item in arg.group(1).split(";"):
        m = re.fullmatch(r"(\d+)(?:-(real|virtual))?", item)
        if not m:
            fail(f"{item!r} is not a CMake CUDA architecture")
        n, kind = int(m.group(1)), m.group(2)
        if kind in (None, "real"):
            sass.add(n)
            gencode += ["-gencode", f"arch=compute_{n},code=sm_{n}"]
        if kind in (None, "virtual"):
            ptx.add(n)
            gencode += ["-gencode", f"arch=compute_{n},code=compute_{n}"]
    print(f"CUDA_ARCHITECTURES: machine code sm_{sorted(sass)}, PTX compute_{sorted(ptx)}")
    if not REQUIRED_SASS <= sass:
        fail(f"no machine code for sm_{sorted(REQUIRED_SASS - sass)}")
    if max(sass) not in ptx:
        fail(f"no PTX of the newest architecture (compute_{max(sass)})")

    spec = importlib.util.spec_from_file_location("check_fatbin_arch", checker)
    fatbin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fatbin)
    with tempfile.TemporaryDirectory() as d:
        src, obj = os.path.join(d, "k.cu"), os.path.join(d, "k.o")
        with open(src, "w", encoding="utf-8") as f:
            f.write(KERNEL)
        r = subprocess.run([nvcc, "-c", src, "-o", obj] + gencode, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"CUDA {nvcc_cuda} cannot build {arg.group(1)}:\n{r.stderr}")
        with open(obj, "rb") as f:
            section = fatbin.elf_section(f.read(), fatbin.SECTION)
    if section is None:
        fail("the object has no .nv_fatbin")
    entries = fatbin.fatbin_entries(section)
    built_sass = {a for k, a in entries if k == fatbin.KIND_ELF}
    built_ptx = {a for k, a in entries if k == fatbin.KIND_PTX}
    print(f"built: machine code sm_{sorted(built_sass)}, PTX compute_{sorted(built_ptx)}")
    if built_sass != sass or built_ptx != ptx:
        fail("the object does not embed exactly the listed code")
    print("cuda_architectures_test: ok")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
