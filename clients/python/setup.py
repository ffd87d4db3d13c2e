"""Build hook: generates the candor.v1 gRPC stubs from candor's proto.

The proto lives at the repository root (proto/candor/v1/candor.proto), two
levels above this file, and the source tree holds no generated code. At build
time ``build_py`` runs grpcio-tools' protoc into the build directory, so the
wheel carries ``candor/v1/candor_pb2.py``, ``candor_pb2_grpc.py`` and the
``.pyi`` type stubs. ``sdist`` copies the proto into the archive (under
``proto/``) so that a wheel can be built from the sdist alone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
PROTO_REL = Path("candor") / "v1" / "candor.proto"


def _proto_root() -> Path:
    """The include root holding candor/v1/candor.proto (sdist copy first)."""
    candidates = [HERE / "proto", HERE.parent.parent / "proto"]
    override = os.environ.get("CANDOR_PROTO_ROOT")
    if override:
        candidates.insert(0, Path(override))
    for root in candidates:
        if (root / PROTO_REL).is_file():
            return root
    raise RuntimeError(
        "cannot find candor/v1/candor.proto: looked under "
        + ", ".join(str(c) for c in candidates)
        + " (build from the candor repository, from its sdist, or set CANDOR_PROTO_ROOT)"
    )


def _generate(out_dir: Path) -> None:
    from grpc_tools import protoc  # build requirement (pyproject.toml)

    root = _proto_root()
    well_known = Path(protoc.__file__).resolve().parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{root}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(root / PROTO_REL),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {root / PROTO_REL}")


class BuildPyWithStubs(build_py):
    """build_py that also writes the generated stubs into build_lib."""

    def run(self) -> None:
        super().run()
        if not self.dry_run:
            _generate(Path(self.build_lib))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        base = Path(self.build_lib) / "candor" / "v1"
        for name in ("candor_pb2.py", "candor_pb2.pyi", "candor_pb2_grpc.py"):
            outputs.append(str(base / name))
        return outputs


class SdistWithProto(sdist):
    """sdist that carries the proto, since it lives outside this folder."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        dest = Path(base_dir) / "proto" / PROTO_REL
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_proto_root() / PROTO_REL, dest)


setup(cmdclass={"build_py": BuildPyWithStubs, "sdist": SdistWithProto})
