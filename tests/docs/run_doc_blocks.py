#!/usr/bin/env python3
"""Runs the shell blocks of candor's READMEs as written, against real servers.

    run_doc_blocks.py --server-bin PATH --cli-bin PATH [--only FILE]

For each document, in order, every ```sh / ```bash block runs with bash -e
(and every ```python block with --python, the venv that holds the client)
in a scratch directory that looks like the repository root: scripts/,
tests/, deploy/, clients/, bench/ and proto/ link to the sources,
build/server/candor-server and build/clients/cli/candor to the binaries
under test, and `candor`, `candor-server` are on PATH. Blocks share that
directory (files one block writes, the next reads), not shell state.

An HTML comment on the line before a block says how to treat it:
  <!-- not run: REASON -->      skipped, and listed with its reason
  <!-- run: in the background --> started, left running (a server the next
                                  blocks use) once its port answers
A background server is stopped before the next block that starts a server
and at the end of its document. Blocks without a language (listings,
synopses with placeholders) are not run. Every block's `--flags` after
`candor-server` or `candor` are checked against `candor-server --helpfull`
and the CLI's `--help` (every subcommand), and so are flags quoted in the
prose (`--flag`), which must belong to one of the two or to a tool named in
OTHER_TOOL_FLAGS. The servers the blocks start use the documented ports
(50051, 9464), so this test runs alone (CTest RUN_SERIAL).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set

REPO = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "clients/python/README.md", "deploy/README.md", "bench/README.md"]
SHELL_LANGS = {"sh", "bash", "shell"}
LINKED = ["scripts", "tests", "deploy", "clients", "bench", "proto"]
PORTS = (50051, 9464)
BLOCK_TIMEOUT_S = 180
# Flags of the other programs the docs quote in prose. Each is checked
# against that program's own --help where this test can run it (candor-health,
# candor-bench, faiss-baseline when their paths are given), else listed.
OTHER_TOOL_FLAGS = {
    "--gpus", "--health-cmd", "--build-arg",  # docker run, docker build
    "--from-file",  # kubectl create secret
    "--test-dir", "--build", "--target",  # ctest, cmake
}
# Quoted on purpose as what not to write (deploy/README.md: "`--data_dir`,
# not `--data-dir`").
WRONG_ON_PURPOSE = {"--data-dir"}

DIRECTIVE = re.compile(r"<!--\s*(not run|run):\s*(.*?)\s*-->")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9_-]*)")


@dataclass
class Block:
    doc: str
    line: int
    lang: str
    text: str
    directive: Optional[str]  # "not run" / "run"
    reason: str


def blocks(doc: str) -> List[Block]:
    lines = (REPO / doc).read_text().splitlines()
    out: List[Block] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        prev = start - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        d = DIRECTIVE.search(lines[prev]) if prev >= 0 else None
        out.append(Block(doc, start + 1, lang, "\n".join(lines[start + 1 : j]) + "\n",
                         d.group(1) if d else None, d.group(2) if d else ""))
        i = j + 1
    return out


# ------------------------------------------------------------------ flags


def help_text(cmd: List[str]) -> str:
    if not os.access(cmd[0], os.X_OK):
        sys.exit(f"{cmd[0]} is not built (build it, or leave its --other-bin out)")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


def server_flags(server: str) -> Set[str]:
    return set(re.findall(r"^\s+(--[a-z][a-z0-9_]*)\b", help_text([server, "--helpfull"]), re.M))


def cli_flags(cli: str) -> Set[str]:
    flags: Set[str] = set()
    todo: List[List[str]] = [[]]
    seen = 0
    while todo and seen < 100:
        sub = todo.pop()
        seen += 1
        text = help_text([cli, *sub, "--help"])
        flags |= set(re.findall(r"(?:^|[\s,])(--[a-z][a-z0-9-]*)", text))
        if "Subcommands:" in text:
            tail = text.split("Subcommands:", 1)[1]
            for name in re.findall(r"^\s{2}([a-z][a-z0-9-]*)\s", tail, re.M):
                todo.append([*sub, name])
    return flags


def command_flags(text: str, program: re.Pattern) -> List[str]:
    """Flags on the command lines (continuations joined) that run `program`."""
    joined = re.sub(r"\\\n", " ", text)
    found: List[str] = []
    for line in joined.splitlines():
        for part in re.split(r"[;&|]+|\$\(", line.split(" #", 1)[0]):
            words = part.split()
            while words and "=" in words[0] and not words[0].startswith("-"):
                words.pop(0)  # VAR=value before the command
            if words and program.fullmatch(words[0]):
                found += [f.split("=")[0] for f in FLAG.findall(" ".join(words[1:]))]
    return found


SERVER_PROG = re.compile(r"(?:\S*/)?candor-server")
CLI_PROG = re.compile(r"(?:\S*/)?candor")


def check_flags(docs: List[str], server: Set[str], cli: Set[str], others: Set[str]) -> List[str]:
    problems: List[str] = []
    for doc in docs:
        text = (REPO / doc).read_text()
        for b in blocks(doc):
            for f in command_flags(b.text, SERVER_PROG):
                if f not in server:
                    problems.append(f"{doc}:{b.line}: candor-server has no flag {f}")
            for f in command_flags(b.text, CLI_PROG):
                if f not in cli:
                    problems.append(f"{doc}:{b.line}: candor has no flag {f}")
        prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
        for n, line in enumerate(prose.splitlines(), 1):
            for code in re.findall(r"`([^`]+)`", line):
                for f in FLAG.findall(code):
                    if f not in server | cli | others | OTHER_TOOL_FLAGS | WRONG_ON_PURPOSE:
                        problems.append(f"{doc}: `{code}`: no candor binary has {f}")
    return problems


# ------------------------------------------------------------------ references

TOP_DIRS = ("proto", "server", "clients", "bench", "tests", "deploy", "scripts", "kernels", "docs", "cmake")
REPO_PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w./-]*[\w/])" % "|".join(TOP_DIRS))
MD_NAME = re.compile(r"(?<![\w/.-])([\w./-]*\w\.md)\b")
LINK = re.compile(r"\]\(([^)#\s]+)")


# Files the reader makes (deploy/README.md: "an overlay of your own").
READERS_OWN = {"deploy/k8s/overlays/mine/kustomization.yaml"}


def check_references(docs: List[str]) -> List[str]:
    """Files the docs name (links, `.md` names, repository paths) must exist."""
    problems: List[str] = []
    for doc in docs:
        base = (REPO / doc).parent
        for n, line in enumerate((REPO / doc).read_text().splitlines(), 1):
            names = set(LINK.findall(line)) | set(MD_NAME.findall(line)) | set(REPO_PATH.findall(line))
            for name in names:
                if "://" in name or name.startswith("mailto:") or name in READERS_OWN:
                    continue
                if not ((base / name).exists() or (REPO / name).exists()):
                    problems.append(f"{doc}:{n}: names {name}, which does not exist")
    return problems


# ------------------------------------------------------------------ running


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_ports_free(timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while any(port_open(p) for p in PORTS):
        if time.monotonic() > deadline:
            raise RuntimeError(f"ports {PORTS} still in use: another server runs on a documented port")
        time.sleep(0.2)


def scratch(server: str, cli: str) -> Path:
    work = Path(tempfile.mkdtemp(prefix="candor-docs-"))
    for name in LINKED:
        (work / name).symlink_to(REPO / name)
    (work / "build" / "server").mkdir(parents=True)
    (work / "build" / "clients" / "cli").mkdir(parents=True)
    (work / "build" / "server" / "candor-server").symlink_to(server)
    (work / "build" / "clients" / "cli" / "candor").symlink_to(cli)
    (work / "bin").mkdir()
    (work / "bin" / "candor-server").symlink_to(server)
    (work / "bin" / "candor").symlink_to(cli)
    return work


def stop(proc: Optional[subprocess.Popen]) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_doc(doc: str, server: str, cli: str, python: Optional[str], skipped: List[str],
            failures: List[str]) -> int:
    work = scratch(server, cli)
    env = dict(os.environ, PATH=f"{work / 'bin'}:{os.environ['PATH']}", HOME=str(work))
    for var in [v for v in env if v.startswith("CANDOR_")]:
        del env[var]  # the test's own settings must not leak into the blocks
    background: Optional[subprocess.Popen] = None
    ran = 0
    try:
        for b in blocks(doc):
            where = f"{doc}:{b.line}"
            if b.lang not in SHELL_LANGS | {"python"}:
                if b.lang == "":
                    skipped.append(f"{where}: no language (a listing or a synopsis)")
                continue
            if b.directive == "not run":
                skipped.append(f"{where}: {b.reason}")
                continue
            command = ["bash", "-e", "-o", "pipefail", "-c", b.text]
            if b.lang == "python":
                if not python:
                    skipped.append(f"{where}: Python, and no --python was given")
                    continue
                command = [python, "-c", b.text]
            starts_server = b.lang in SHELL_LANGS and re.search(
                r"(^|[\s;&])(\S*/)?candor-server(\s|$)", b.text, re.M)
            if starts_server:
                stop(background)
                background = None
                wait_ports_free()
            log = work / f"block-{b.line}.log"
            t0 = time.monotonic()
            with open(log, "wb") as out:
                proc = subprocess.Popen(command, cwd=work, env=env,
                                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                if b.directive == "run":
                    background = proc
                    deadline = time.monotonic() + 60
                    while not port_open(PORTS[0]):
                        if proc.poll() is not None or time.monotonic() > deadline:
                            failures.append(f"{where}: the background server did not answer:\n{log.read_text()}")
                            break
                        time.sleep(0.2)
                    print(f"ran  {where} (in the background)", flush=True)
                    ran += 1
                    continue
                try:
                    rc = proc.wait(timeout=BLOCK_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    stop(proc)
                    rc = "timeout"
                finally:
                    # Whatever the block left behind (a `&` it did not kill).
                    try:
                        os.killpg(proc.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            ran += 1
            took = time.monotonic() - t0
            if rc != 0:
                failures.append(f"{where}: exit {rc} after {took:.1f} s\n--- block\n{b.text}--- output\n"
                                + log.read_text(errors="replace")[-4000:])
                print(f"FAIL {where} ({took:.1f} s)", flush=True)
            else:
                print(f"ran  {where} ({took:.1f} s)", flush=True)
    finally:
        stop(background)
        subprocess.run(["chmod", "-R", "u+rwX", str(work)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return ran


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--cli-bin", required=True)
    ap.add_argument("--other-bin", action="append", default=[],
                    help="another candor program whose --helpfull/--help flags the prose may quote")
    ap.add_argument("--other-source", action="append", default=[],
                    help="a script whose quoted '--flags' (argparse, case) the prose may quote")
    ap.add_argument("--python", help="the interpreter of the ```python blocks (with candor-client)")
    ap.add_argument("--only", action="append", help="run only these documents")
    ap.add_argument("--flags-only", action="store_true", help="check flags and file names, run nothing")
    args = ap.parse_args()
    server, cli = os.path.abspath(args.server_bin), os.path.abspath(args.cli_bin)
    docs = args.only or DOCS

    others: Set[str] = set()
    for prog in args.other_bin:
        for opt in ("--helpfull", "--help"):
            others |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9_-]*)", help_text([prog, opt])))
    for src in args.other_source:
        others |= set(re.findall(r"[\"'\s(](--[a-z][a-z0-9_-]*)", (REPO / src).read_text()))
    problems = check_flags(docs, server_flags(server), cli_flags(cli), others)
    problems += check_references(docs)
    for p in problems:
        print(f"DOC  {p}")

    skipped: List[str] = []
    failures: List[str] = []
    ran = 0
    t0 = time.monotonic()
    if not args.flags_only:
        for doc in docs:
            python = os.path.abspath(args.python) if args.python else None
            ran += run_doc(doc, server, cli, python, skipped, failures)
    print(f"\n{ran} blocks ran in {time.monotonic() - t0:.1f} s; {len(skipped)} not run:")
    for s in skipped:
        print(f"  {s}")
    for f in failures:
        print(f"\nFAILED {f}")
    return 1 if failures or problems else 0


if __name__ == "__main__":
    sys.exit(main())
