"""Run a Python program in a transient systemd service and relay its output, as root on the host.

`systemd-run --wait --pipe` would do it, but both options need the D-Bus system bus, which a minimal
Debian host does not run. Without them systemd-run talks to systemd's private socket, and a oneshot
service keeps it waiting until the program has exited; stdin and output go through files that
systemd itself opens (root-only; the program, readable by the service's user, sits beside them).

sandbox_run.py SPEC, SPEC being JSON: {"unit": name prefix, "description": str, "properties":
["User=app", "ProtectSystem=strict", ...], "timeout": seconds, "python": interpreter, "program":
source, "args": [...], "stdin_text": the program's stdin (a str; "" for none: the role runs this over
ansible.builtin.raw, which has no stdin to give)}. Prints the program's stdout and stderr, then exits 0 when
the program succeeded, 1 otherwise.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile


def _write(path: str, text: str, mode: int) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "w", encoding="utf-8") as stream:
        stream.write(text)


def _show(unit: str) -> dict[str, str]:
    shown = subprocess.run(
        ["systemctl", "show", "--property=Result,ExecMainStatus", unit],
        capture_output=True,
        text=True,
        check=False,
    )
    return dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)


def run(spec: dict, stdin: str) -> int:
    unit = f"{spec['unit']}-{secrets.token_hex(4)}.service"
    # Under /run (memory, never a home or a private /tmp): the service's user may read the program.
    directory = tempfile.mkdtemp(prefix=f"{spec['unit']}-", dir="/run")
    try:
        os.chmod(directory, 0o755)
        program, stdin_file, output = (os.path.join(directory, name) for name in ("program.py", "stdin", "output"))
        _write(program, spec["program"], 0o644)
        _write(stdin_file, stdin, 0o600)
        _write(output, "", 0o600)
        started = subprocess.run(
            [
                "systemd-run",
                "--quiet",
                f"--unit={unit}",
                f"--description={spec['description']}",
                "--property=Type=oneshot",
                f"--property=TimeoutStartSec={spec['timeout']}",
                f"--property=StandardInput=file:{stdin_file}",
                f"--property=StandardOutput=file:{output}",
                "--property=StandardError=inherit",
                *(f"--property={prop}" for prop in spec["properties"]),
                "--",
                spec["python"],
                # systemd expands $VARIABLE in the arguments of a command line; "$$" is a literal "$".
                *(word.replace("$", "$$") for word in [program, *spec["args"]]),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        with open(output, encoding="utf-8", errors="replace") as stream:
            sys.stdout.write(stream.read())
    finally:
        shutil.rmtree(directory)
    sys.stderr.write(started.stderr)
    if started.returncode == 0:
        return 0
    status = _show(unit)
    if status.get("Result", "success") != "success":
        # A failed unit stays loaded until this (a successful one is collected on its own).
        subprocess.run(["systemctl", "reset-failed", unit], capture_output=True, check=False)
        print(f"{unit} failed: {status['Result']} (status {status.get('ExecMainStatus', '?')})", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    return run(spec, spec.get("stdin_text", ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
