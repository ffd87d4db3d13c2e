#!/usr/bin/env python3
"""The CPU image's smoke test, without a Docker engine.

  image_smoke_test.py --stage DIR --dockerfile FILE --certs-script FILE
                      --cache DIR

--stage is what build-release.sh staged for the image (bin/, share/candor/
with runtime-packages.txt and image-setup.sh), i.e. the build stage's
/opt/candor. The test:
  1. builds, with mmdebstrap, a root file system of the Dockerfile's base
     release (variant minbase, as the debian:*-slim images) holding exactly
     the packages of runtime-packages.txt, the list the runtime stage
     installs; the tarball is cached in --cache under a key of the release,
     the mirrors and the list, so a rerun extracts it in seconds;
  2. plays the runtime stage of the Dockerfile on it: each COPY --from=build
     copies from --stage, each RUN runs in a chroot (image-setup.sh: the
     packages are there, so it only creates user 10001); any other
     instruction that would change the file system fails the test;
  3. writes /etc/hosts as a container runtime does and puts test
     certificates where the image expects a TLS Secret
     (/etc/candor/tls/{tls.crt,tls.key,ca.crt});
  4. in namespaces of its own (network, mount, PID: a container's, so the
     server listens on the image's 0.0.0.0 ports without reaching this
     machine's network), starts ENTRYPOINT + CMD as the image's USER in
     the chroot and checks that: the HEALTHCHECK command fails before the
     server runs and succeeds once it is up; the process runs as uid 10001;
     /metrics is served on --metrics_listen; `candor demo` runs against it
     over mutual TLS; the requests it made show in /metrics; the server
     wrote its data folder as uid 10001; SIGTERM stops it cleanly.

Needs root (chroot, mount, unshare) and the package archive (the first run
of a package list). Exits 77 (skipped) when not root.
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
UID = 10001
# The mirrors of the debian images' sources (security updates included).
MIRRORS = (
    "deb http://deb.debian.org/debian {s} main",
    "deb http://deb.debian.org/debian {s}-updates main",
    "deb http://deb.debian.org/debian-security {s}-security main",
)
# What `docker run` gives a process that sets no PATH.
DOCKER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Instructions of the runtime stage that change nothing on disk: read below
# or without effect on a file-system test.
METADATA = {"SHELL", "USER", "WORKDIR", "VOLUME", "EXPOSE", "HEALTHCHECK",
            "ENTRYPOINT", "CMD", "ENV", "LABEL", "ARG", "STOPSIGNAL"}


def log(msg):
    print(f"image_smoke: {msg}", flush=True)


class Failure(Exception):
    pass


# ---------------------------------------------------------------- Dockerfile
def runtime_stage(path):
    """[(INSTRUCTION, text)] of the last stage, continuations joined."""
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if not l.lstrip().startswith("#")]
    text = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((word, rest.strip()))
    if not stages:
        raise Failure(f"{path}: no FROM")
    return stages[-1]


def build_prefix(path):
    """The --prefix the build stage gives build-release.sh."""
    with open(path, encoding="utf-8") as f:
        m = re.search(r"build-release\.sh[^\n]*--prefix\s+(\S+)", f.read())
    if not m:
        raise Failure(f"{path}: no build-release.sh --prefix in the build stage")
    return m.group(1).rstrip("/")


def exec_form(text, what):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise Failure(f"{what} is not in exec form ({e}): {text}")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Failure(f"{what}: expected a JSON list of strings: {text}")
    return value


def image_config(stage):
    """The runtime facts of the last stage: base, user, workdir, env, argv."""
    cfg = {"env": {}, "workdir": "/", "user": "0", "entrypoint": [], "cmd": [],
           "health": None, "shell": ["/bin/sh", "-c"]}
    for word, rest in stage:
        if word == "FROM":
            cfg["base"] = rest.split()[0]
        elif word == "USER":
            cfg["user"] = rest
        elif word == "WORKDIR":
            cfg["workdir"] = rest
        elif word == "SHELL":
            cfg["shell"] = exec_form(rest, "SHELL")
        elif word == "ENV":
            for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', rest):
                cfg["env"][k] = v[1:-1] if v.startswith('"') else v
        elif word == "ENTRYPOINT":
            cfg["entrypoint"] = exec_form(rest, "ENTRYPOINT")
        elif word == "CMD":
            cfg["cmd"] = exec_form(rest, "CMD")
        elif word == "HEALTHCHECK":
            m = re.search(r"\bCMD\s+(\[.*\])\s*$", rest)
            if not m:
                raise Failure(f"HEALTHCHECK without an exec-form CMD: {rest}")
            cfg["health"] = exec_form(m.group(1), "HEALTHCHECK CMD")
    if cfg["health"] is None:
        raise Failure("the runtime stage has no HEALTHCHECK")
    return cfg


def flag(argv, name):
    for a in argv:
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    raise Failure(f"the image's command has no --{name}: {argv}")


# ---------------------------------------------------------------- rootfs
def suite_of(base):
    m = re.fullmatch(r"(?:docker\.io/)?(?:library/)?debian:([a-z]+)(?:-slim)?", base)
    if not m:
        raise Failure(f"base image {base}: only debian:<release>[-slim] is reproduced here")
    return m.group(1)


def cached_rootfs(cache, suite, packages):
    """A tarball of the root file system, built once per (release, list)."""
    mirrors = [m.format(s=suite) for m in MIRRORS]
    version = subprocess.run(["mmdebstrap", "--version"], capture_output=True,
                             text=True, check=True).stdout.strip()
    key = hashlib.sha256(json.dumps(
        [suite, "minbase", mirrors, sorted(packages), version]).encode()).hexdigest()[:16]
    os.makedirs(cache, exist_ok=True)
    tarball = os.path.join(cache, f"rootfs-{suite}-{key}.tar")
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once build it once
        if os.path.exists(tarball):
            log(f"root file system from the cache: {tarball}")
            return tarball
        log(f"building the {suite} root file system with mmdebstrap "
            f"({len(packages)} packages; minutes, once per package list)")
        started = time.monotonic()
        partial = tarball + ".partial"
        cmd = ["mmdebstrap", "--mode=root", "--variant=minbase", "--format=tar",
               "--include=" + ",".join(sorted(packages)), suite, partial] + mirrors
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure(f"mmdebstrap failed ({r.returncode}):\n{r.stderr[-4000:]}")
        os.replace(partial, tarball)
        log(f"mmdebstrap took {time.monotonic() - started:.0f} s")
        # Older lists' tarballs are dead weight (a few hundred MB each).
        for name in os.listdir(cache):
            if name.startswith("rootfs-") and os.path.join(cache, name) != tarball:
                os.remove(os.path.join(cache, name))
    return tarball


def chroot_run(root, cmd, user=None, env=None, timeout=120, shell=None, wrap=()):
    argv = list(wrap) + ["chroot"]
    if user is not None:
        argv += [f"--userspec={user}", f"--groups={user.split(':')[1]}"]
    argv += [root, "/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in (env or {}).items()]
    argv += (shell + [cmd]) if shell else cmd
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def play_runtime_stage(root, stage, stage_dir, prefix, shell):
    """The stage's COPY --from=build and RUN instructions, in order."""
    for word, rest in stage[1:]:
        if word == "COPY":
            m = re.fullmatch(r"--from=build\s+(\S+)\s+(\S+)", rest)
            if not m or not m.group(1).startswith(prefix + "/"):
                raise Failure(f"COPY {rest}: only COPY --from=build {prefix}/... is reproduced")
            src = os.path.join(stage_dir, m.group(1)[len(prefix) + 1:])
            dst = root + m.group(2)
            if not os.path.isdir(src):
                raise Failure(f"COPY {rest}: {src} was not staged")
            log(f"COPY {m.group(1)} {m.group(2)}")
            # As COPY: the folder's contents, owned by root.
            os.makedirs(dst, exist_ok=True)
            subprocess.run(["cp", "-a", "--no-preserve=ownership", src.rstrip("/") + "/.", dst],
                           check=True)
        elif word == "RUN":
            log(f"RUN {rest}")
            # With /proc (a build step has one) and no network: the
            # packages are all there, so image-setup.sh must not need apt.
            r = chroot_run(root, rest, env={"PATH": DOCKER_PATH}, shell=shell, timeout=600,
                           wrap=["unshare", "--net", "--mount", "--pid", "--fork",
                                 f"--mount-proc={root}/proc"])
            if r.returncode != 0:
                raise Failure(f"RUN {rest} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        elif word not in METADATA:
            raise Failure(f"{word} {rest}: the smoke test does not reproduce {word}")


def container_files(root):
    """What a container runtime puts in every container: /etc/hosts (the
    image has none; gRPC's resolver needs it for localhost) and a hostname."""
    with open(root + "/etc/hosts", "w", encoding="utf-8") as f:
        f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                "127.0.1.1\tcandor-smoke\n")
    with open(root + "/etc/hostname", "w", encoding="utf-8") as f:
        f.write("candor-smoke\n")


def install_certs(root, certs_script, work):
    """A TLS Secret's layout at /etc/candor/tls and a client's key pair."""
    certs = os.path.join(work, "certs")
    subprocess.run([certs_script, certs], check=True)
    tls = root + "/etc/candor/tls"
    os.makedirs(tls, mode=0o755)
    for src, dst in (("server.pem", "tls.crt"), ("server-key.pem", "tls.key"), ("ca.pem", "ca.crt")):
        shutil.copy(os.path.join(certs, src), os.path.join(tls, dst))
        os.chown(os.path.join(tls, dst), 0, UID)  # a Secret mounted with fsGroup
        os.chmod(os.path.join(tls, dst), 0o440)
    client = root + "/tmp/client"
    os.makedirs(client)
    for name in ("admin.pem", "admin-key.pem"):
        shutil.copy(os.path.join(certs, name), client)
        os.chown(os.path.join(client, name), UID, UID)


# ---------------------------------------------------------------- inside
def inner(args):
    """Runs as PID 1 of fresh network, mount and PID namespaces."""
    with open(args.inner, encoding="utf-8") as f:
        cfg = json.load(f)
    root = cfg["root"]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # What a container runtime mounts (proc is mounted by unshare).
    subprocess.run(["mount", "-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", root + "/sys"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,mode=1777", "shm", root + "/dev/shm"], check=True)

    user = cfg["user"]
    if ":" not in user:
        user = f"{user}:{user}"
    env = {"PATH": DOCKER_PATH, "HOME": cfg["workdir"], "HOSTNAME": "candor-smoke"}
    env.update(cfg["env"])
    health = cfg["health"]
    listen = flag(cfg["argv"], "listen")
    metrics = flag(cfg["argv"], "metrics_listen")
    port = listen.rsplit(":", 1)[1]
    metrics_url = f"http://127.0.0.1:{metrics.rsplit(':', 1)[1]}/metrics"
    failures = []

    def check(ok, what):
        log(("ok: " if ok else "FAILED: ") + what)
        if not ok:
            failures.append(what)

    r = chroot_run(root, health, user=user, env=env, timeout=30)
    check(r.returncode != 0, "the HEALTHCHECK fails while no server runs")

    server_log = open(cfg["server_log"], "w")
    argv = ["chroot", f"--userspec={user}", f"--groups={user.split(':')[1]}", root,
            "/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in env.items()]
    argv += ["/bin/sh", "-c", 'cd "$0" && exec "$@"', cfg["workdir"]] + cfg["argv"]
    log("start: " + shlex.join(cfg["argv"]))
    started = time.monotonic()
    server = subprocess.Popen(argv, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        healthy = False
        deadline = started + 120  # the HEALTHCHECK's --start-period
        while time.monotonic() < deadline and server.poll() is None:
            r = chroot_run(root, health, user=user, env=env, timeout=30)
            if r.returncode == 0:
                healthy = True
                break
            time.sleep(0.5)
        check(healthy, f"the HEALTHCHECK ({shlex.join(health)}) passes "
              f"({time.monotonic() - started:.1f} s after start)")
        if not healthy:
            print(f"last health check: {r.stdout}{r.stderr}")
            raise Failure(f"the server is not healthy (exit status {server.poll()})")

        with open(f"{root}/proc/{server.pid}/status", encoding="utf-8") as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
        name = re.search(r"^Name:\s+(.*)$", status, re.M).group(1)
        check(name.startswith("candor-server") and set(uids) == {str(UID)} and set(gids) == {str(UID)},
              f"{name} runs as uid {uids[0]}, gid {gids[0]} (want {UID})")

        with urllib.request.urlopen(metrics_url, timeout=10) as resp:
            body = resp.read().decode()
            ctype = resp.headers.get("Content-Type", "")
        check(resp.status == 200 and ctype.startswith("text/plain") and "# TYPE candor_" in body,
              f"{metrics_url} serves candor's metrics ({len(body)} bytes, {ctype})")

        demo = ["/usr/local/bin/candor", "demo", "--server", f"localhost:{port}",
                "--tls-ca", "/etc/candor/tls/ca.crt",
                "--tls-cert", "/tmp/client/admin.pem", "--tls-key", "/tmp/client/admin-key.pem"]
        t = time.monotonic()
        r = chroot_run(root, demo, user=user, env=env, timeout=600)
        print(r.stdout[-3000:], r.stderr[-3000:], sep="\n")
        check(r.returncode == 0 and r.stdout.strip() != "",
              f"`candor demo` over mutual TLS exits {r.returncode} ({time.monotonic() - t:.1f} s)")

        with urllib.request.urlopen(metrics_url, timeout=10) as resp:
            body = resp.read().decode()
        served = {}
        for m in re.finditer(r'^candor_requests_total\{([^}]*)\} (\S+)$', body, re.M):
            rpc = re.search(r'rpc="([^"]*)"', m.group(1))
            if rpc:
                served[rpc.group(1)] = served.get(rpc.group(1), 0) + float(m.group(2))
        check(served.get("Enroll", 0) > 0 and served.get("Search", 0) > 0,
              f"/metrics counts the demo's requests: {served}")

        owners = {os.stat(os.path.join(d, n)).st_uid
                  for d, dirs, files in os.walk(root + "/var/lib/candor") for n in dirs + files}
        check(owners == {UID}, f"/var/lib/candor holds files of uids {sorted(owners)} only")
    except Failure as e:
        check(False, str(e))
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                check(False, "the server stops within 60 s of SIGTERM")
        server_log.close()
    check(server.returncode == 0, f"the server exits {server.returncode} after SIGTERM")
    if failures:
        with open(cfg["server_log"], encoding="utf-8", errors="replace") as f:
            print("---- server log (tail)\n" + f.read()[-6000:])
        return 1
    return 0


# ---------------------------------------------------------------- outside
def outer(args):
    if os.geteuid() != 0:
        print("image_smoke: needs root (chroot, mount, namespaces): skipped")
        return SKIP
    for tool in ("mmdebstrap", "unshare", "chroot", "ip", "tar"):
        if shutil.which(tool) is None:
            raise Failure(f"{tool} is not installed (scripts/install-deps.sh installs mmdebstrap)")
    stage = runtime_stage(args.dockerfile)
    cfg = image_config(stage)
    suite = suite_of(cfg["base"])
    prefix = build_prefix(args.dockerfile)
    packages_file = os.path.join(args.stage, "share/candor/runtime-packages.txt")
    with open(packages_file, encoding="utf-8") as f:
        packages = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    if not packages:
        raise Failure(f"{packages_file} names no package")
    log(f"{len(packages)} packages from {packages_file}: {' '.join(packages)}")

    t0 = time.monotonic()
    tarball = cached_rootfs(args.cache, suite, packages)
    work = tempfile.mkdtemp(prefix="candor-image-")
    root = os.path.join(work, "root")
    try:
        os.mkdir(root)
        subprocess.run(["tar", "-xf", tarball, "-C", root], check=True)
        log(f"root file system ready in {time.monotonic() - t0:.0f} s")
        play_runtime_stage(root, stage, args.stage, prefix, cfg["shell"])
        container_files(root)
        install_certs(root, args.certs_script, work)
        inner_cfg = dict(root=root, user=cfg["user"], workdir=cfg["workdir"], env=cfg["env"],
                         health=cfg["health"], argv=cfg["entrypoint"] + cfg["cmd"],
                         server_log=os.path.join(work, "server.log"))
        with open(os.path.join(work, "inner.json"), "w", encoding="utf-8") as f:
            json.dump(inner_cfg, f)
        r = subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork",
                            f"--mount-proc={root}/proc", sys.executable, os.path.abspath(__file__),
                            "--inner", os.path.join(work, "inner.json")], timeout=1200)
        log(f"total {time.monotonic() - t0:.0f} s")
        return r.returncode
    finally:
        # The mounts lived in the namespace, gone with it; never delete
        # through one that is still there.
        mounted = [p for p in ("proc", "sys", "dev/shm") if os.path.ismount(os.path.join(root, p))]
        if mounted:
            log(f"not removing {work}: {mounted} still mounted")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stage")
    p.add_argument("--dockerfile")
    p.add_argument("--certs-script")
    p.add_argument("--cache")
    p.add_argument("--inner", help=argparse.SUPPRESS)
    args = p.parse_args()
    try:
        if args.inner:
            return inner(args)
        for name in ("stage", "dockerfile", "certs_script", "cache"):
            if not getattr(args, name):
                p.error(f"--{name.replace('_', '-')} is required")
        return outer(args)
    except Failure as e:
        log(f"FAILED: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
