#!/usr/bin/env python3
"""The Debian package end to end (ctest package.deb, label package).

Builds the package with cpack from the build tree into a temporary
directory, checks its control data (conffile, postinst, dependencies),
unpacks it with dpkg-deb -x into a temporary root, verifies the systemd
unit with systemd-analyze verify, and starts the unpacked binary the way
the unit does: its ExecStart line, as an unprivileged user when run as
root (the unit's User= does not exist on a test machine), with
$NOTIFY_SOCKET set (Type=notify), on the packaged config adjusted to
temporary directories, the embedded Kafka cluster and a loopback test
identity. It must say READY=1, answer /readyz with 200, and on SIGTERM say
STOPPING=1 and exit 0. Any missing tool fails the test with its name.
"""

import argparse
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

START_DEADLINE_S = 90
STOP_DEADLINE_S = 60


def fail(message):
    print("package test: " + message, file=sys.stderr)
    sys.exit(1)


def need(tool, why):
    path = shutil.which(tool)
    if path is None:
        fail(f"'{tool}' not found on PATH ({why}; ./build.sh installs it)")
    return path


def run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        fail(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


def unit_settings(path):
    """The [Service] and other settings of a unit file, key -> last value."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";", "[")):
                continue
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--cpack", required=True)
    args = parser.parse_args()
    need("dpkg-deb", "unpacks the package")
    analyze = need("systemd-analyze", "verifies the unit")
    if not os.access(args.cpack, os.X_OK):
        fail(f"cpack not found at {args.cpack}")

    work = tempfile.mkdtemp(prefix="mozaiek-package-")
    os.chmod(work, 0o755)
    ok = False
    try:
        # 1. Build the package.
        started = time.monotonic()
        run([args.cpack, "-G", "DEB", "-B", os.path.join(work, "out"),
             "--config", os.path.join(args.build_dir, "CPackConfig.cmake")])
        debs = [f for f in os.listdir(os.path.join(work, "out")) if f.endswith(".deb")]
        if len(debs) != 1:
            fail(f"cpack made {debs}, not one .deb")
        deb = os.path.join(work, "out", debs[0])
        print(f"built {debs[0]} ({os.path.getsize(deb) // 1024} KiB) in "
              f"{time.monotonic() - started:.1f} s")

        # 2. Its control data.
        conffiles = run(["dpkg-deb", "-f", deb, "Package"]).strip()
        if conffiles != "mozaiek":
            fail(f"package name {conffiles!r}")
        depends = run(["dpkg-deb", "-f", deb, "Depends"])
        for dep in ("adduser", "librdkafka"):
            if dep not in depends:
                fail(f"Depends lacks {dep}: {depends}")
        control = os.path.join(work, "control")
        run(["dpkg-deb", "-e", deb, control])
        with open(os.path.join(control, "conffiles"), encoding="utf-8") as f:
            if "/etc/mozaiek/mozaiek.yaml" not in f.read().split():
                fail("/etc/mozaiek/mozaiek.yaml is not a conffile")
        postinst = os.path.join(control, "postinst")
        with open(postinst, encoding="utf-8") as f:
            text = f.read()
        if "adduser --system" not in text or "mozaiek" not in text:
            fail("postinst does not make the system user mozaiek")
        run(["sh", "-n", postinst])

        # 3. Unpack and verify the unit against the unpacked tree.
        root = os.path.join(work, "root")
        run(["dpkg-deb", "-x", deb, root])
        binary = os.path.join(root, "usr/bin/mozaiek")
        unit = os.path.join(root, "lib/systemd/system/mozaiek.service")
        packaged_config = os.path.join(root, "etc/mozaiek/mozaiek.yaml")
        for path in (binary, unit, packaged_config):
            if not os.path.isfile(path):
                fail(f"{os.path.relpath(path, root)} is not in the package")
        # verify checks that ExecStart's binary exists: the unit's own text
        # with /usr/bin/mozaiek pointed at the unpacked one (a --root= tree
        # lacks the system's targets).
        verify_dir = os.path.join(work, "verify")
        os.makedirs(verify_dir)
        with open(unit, encoding="utf-8") as f:
            unit_text = f.read()
        with open(os.path.join(verify_dir, "mozaiek.service"), "w", encoding="utf-8") as f:
            f.write(unit_text.replace("/usr/bin/mozaiek", binary))
        verify = subprocess.run([analyze, "verify", "--man=no",
                                 os.path.join(verify_dir, "mozaiek.service")],
                                capture_output=True, text=True)
        said = (verify.stdout + verify.stderr).strip()
        if verify.returncode != 0 or "mozaiek.service" in said:
            fail(f"systemd-analyze verify (exit {verify.returncode}):\n{said}")
        settings = unit_settings(unit)
        for key, want in (("Type", "notify"), ("User", "mozaiek"), ("StateDirectory", "mozaiek"),
                          ("ConfigurationDirectory", "mozaiek"), ("Restart", "on-failure"),
                          ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                          ("ProtectHome", "yes"), ("PrivateTmp", "yes")):
            if settings.get(key) != want:
                fail(f"unit: {key}={settings.get(key)!r}, want {want!r}")

        # 4. The packaged config, adjusted to this test's directories.
        with open(packaged_config, encoding="utf-8") as f:
            config = yaml.safe_load(f)
        if config["service"]["state_dir"] != "/var/lib/mozaiek":
            fail(f"packaged state_dir {config['service']['state_dir']!r}")
        if config["privacy"].get("pseudonym_key_file") != "pseudonym.key":
            fail("the packaged config names no pseudonym key file")
        etc = os.path.join(work, "etc")
        state = os.path.join(work, "state")
        os.makedirs(etc)
        os.makedirs(state)
        with open(os.path.join(etc, "pseudonym.key"), "w", encoding="utf-8") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(os.path.join(etc, "pseudonym.key"), 0o600)
        port = free_loopback_port()
        config["service"]["state_dir"] = state
        config["service"]["http_listen"] = f"127.0.0.1:{port}"
        config["service"]["demo_identity"] = {"name": "package-test", "roles": ["metrics"]}
        config["kafka"]["brokers"] = "embedded"
        config_path = os.path.join(etc, "mozaiek.yaml")
        with open(config_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(config, f)

        # 5. Start it as the unit does.
        argv = shlex.split(settings["ExecStart"])
        if argv[0] != "/usr/bin/mozaiek" or "/etc/mozaiek/mozaiek.yaml" not in argv:
            fail(f"unexpected ExecStart {settings['ExecStart']!r}")
        argv = [binary if a == "/usr/bin/mozaiek" else
                config_path if a == "/etc/mozaiek/mozaiek.yaml" else a for a in argv]
        notify_path = os.path.join(work, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(1.0)
        preexec = None
        if os.geteuid() == 0:
            # Not root, as under the unit: the unprivileged nobody.
            nobody = pwd.getpwnam("nobody")
            for directory, _, files in os.walk(work):
                if directory.startswith(root):
                    continue
                os.chown(directory, nobody.pw_uid, nobody.pw_gid)
                for name in files:
                    os.chown(os.path.join(directory, name), nobody.pw_uid, nobody.pw_gid)
            os.chmod(notify_path, 0o666)

            def preexec():
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
        log_path = os.path.join(work, "service.log")
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        env.pop("MOZAIEK_PSEUDONYM_KEY", None)
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL, preexec_fn=preexec)
        try:
            def said_to_systemd(state, deadline_s):
                end = time.monotonic() + deadline_s
                while time.monotonic() < end:
                    if proc.poll() is not None and state != "STOPPING=1":
                        return False
                    try:
                        message = notify.recv(4096).decode()
                    except socket.timeout:
                        continue
                    if state in message.split("\n"):
                        return True
                return False

            if not said_to_systemd("READY=1", START_DEADLINE_S):
                fail(f"no READY=1 within {START_DEADLINE_S} s (exit {proc.poll()}); "
                     f"log:\n{open(log_path, encoding='utf-8').read()[-4000:]}")
            ready = False
            end = time.monotonic() + START_DEADLINE_S
            while time.monotonic() < end and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz",
                                                timeout=5) as answer:
                        ready = answer.status == 200
                except (urllib.error.URLError, OSError):
                    pass
                if ready:
                    break
                time.sleep(0.5)
            if not ready:
                fail(f"/readyz never answered 200 within {START_DEADLINE_S} s; log:\n"
                     f"{open(log_path, encoding='utf-8').read()[-4000:]}")
            print(f"READY=1 and /readyz 200 on port {port}")
            proc.send_signal(signal.SIGTERM)
            if not said_to_systemd("STOPPING=1", STOP_DEADLINE_S):
                fail("no STOPPING=1 after SIGTERM")
            code = proc.wait(timeout=STOP_DEADLINE_S)
            if code != 0:
                fail(f"exit {code} after SIGTERM; log:\n"
                     f"{open(log_path, encoding='utf-8').read()[-4000:]}")
            with open(log_path, encoding="utf-8") as f:
                log_text = f.read()
            if os.geteuid() == 0 and os.stat(state).st_uid != pwd.getpwnam("nobody").pw_uid:
                fail("state directory not kept by the unprivileged user")
            if not any(os.scandir(state)):
                fail("nothing was written to the state directory")
            if "pseudonym key: from" not in log_text:
                fail("the packaged pseudonym_key_file was not used")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            notify.close()
        ok = True
        print("package test: ok")
    finally:
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"package test: left {work} for inspection", file=sys.stderr)


if __name__ == "__main__":
    main()
