#!/usr/bin/python
"""Point an app's `current` link at a release and `previous` at the release it leaves, in one call."""

import json
import os
import sys

try:
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.djangoops.django.plugins.module_utils.releases import read
except ImportError:  # run as a script by the host's python3, after the text of module_utils/releases.py
    AnsibleModule = None

DOCUMENTATION = r"""
---
module: release_switch
short_description: Switch an app's current release atomically and record the one it leaves as previous
description:
  - Reads the app's base directory (I(root)), with its C(releases/) directory and its C(current) and C(previous)
    symlinks, then points C(previous) at the release C(current) leaves and C(current) at I(release). Each link
    is replaced by renaming a new link over it, so it always exists.
  - Nothing changes when C(current) already points at I(release).
  - What blocks a switch is returned in RV(blocked), with nothing changed; the caller names its own settings
    in the message. A release counts when its C(REVISION) file names a commit.
  - In check mode it reports the switch and changes nothing; a release that does not exist yet does not
    block it (a real run would have made it). With C(--diff) it shows the links' targets before and after.
  - The text of C(module_utils/releases.py) followed by this file's also runs as a script with the host's python3
    and the options as one JSON object (with C(check_mode)), for a call over M(ansible.builtin.raw) without a
    module around it (app_code's activation when a run shows no diff). It prints the same answer as JSON; a
    refusal or a failure is its message on stderr and exit status 1.
version_added: "1.0.0"
author: djangoops
options:
  root:
    description: The app's base directory, holding C(releases/), C(current) and C(previous).
    type: path
    required: true
  release:
    description:
      - The name of the release to make current (a directory under C(releases/)); an empty string means the
        release C(previous) points at (a rollback).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Make a release current
  djangoops.django.release_switch:
    root: /srv/notes
    release: 20261205031611-e1bbc3bc72f4
  register: switch

- name: Go back to the release before it
  djangoops.django.release_switch:
    root: /srv/notes
"""

RETURN = r"""
blocked:
  description:
    - Why nothing was switched, else an empty string. C(no_previous) with an empty I(release) and no
      C(previous) link; C(no_release) when the release has no C(REVISION) file (or an empty one); C(not_a_link)
      when C(current) exists and is not a symlink.
  returned: always
  type: str
before:
  description: The release names C(current) and C(previous) pointed at before (an empty string for no link).
  returned: always
  type: dict
current:
  description: The release C(current) points at now (in check mode, would point at).
  returned: always
  type: str
previous:
  description: The release C(previous) points at now.
  returned: always
  type: str
sha:
  description: The commit in the current release's C(REVISION) file (an empty string when unknown).
  returned: always
  type: str
releases:
  description: Every release, by name, with the commit in its C(REVISION) file (an empty string when missing).
  returned: always
  type: dict
leftovers:
  description: The C(releases/.tmp-*) directories an interrupted build left.
  returned: always
  type: list
"""


def replace_link(root: str, name: str, target: str) -> None:
    """Point root/name at target by renaming a new link over it: the link never disappears."""
    temporary = os.path.join(root, f".{name}.tmp-{os.getpid()}")
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(target, temporary)
    os.replace(temporary, os.path.join(root, name))


def switch(root: str, release: str, check_mode: bool) -> dict:
    state = read(root)
    before = {"current": state["current"], "previous": state["previous"]}
    to = release or state["previous"]
    result = {
        "changed": False,
        "blocked": "",
        "before": before,
        "current": state["current"],
        "previous": state["previous"],
        "releases": state["releases"],
        "leftovers": state["leftovers"],
    }
    if not to:
        result["blocked"] = "no_previous"
    elif not state["releases"].get(to) and not check_mode:
        result["blocked"] = "no_release"
    elif state["current_type"] == "other":
        result["blocked"] = "not_a_link"
    elif state["current"] != to:
        result["changed"] = True
        if state["current"]:
            result["previous"] = state["current"]
        result["current"] = to
        if not check_mode:
            if state["current"]:
                replace_link(root, "previous", f"releases/{state['current']}")
            replace_link(root, "current", f"releases/{to}")
    result["sha"] = state["releases"].get(result["current"], "")
    if result["changed"]:
        result["diff"] = {
            "before_header": f"{root} (links)",
            "after_header": f"{root} (links)",
            "before": links_text(before["current"], before["previous"]),
            "after": links_text(result["current"], result["previous"]),
        }
    return result


def links_text(current: str, previous: str) -> str:
    pairs = [("current", current), ("previous", previous)]
    return "".join(f"{name} -> releases/{target}\n" for name, target in pairs if target)


def refusal(release: str) -> str:
    """Why a release name is refused ("" when it is a name under releases/)."""
    if "/" in release or release in {".", ".."}:
        return f"release: '{release}' is not a release name (a directory under releases/)"
    return ""


def script(options: dict) -> int:
    """The file run as a script (app_code over raw): the answer as one JSON object on stdout, or the failure's
    message on stderr and exit 1."""
    root, release = options["root"], options.get("release", "")
    refused = refusal(release)
    if refused:
        print(refused, file=sys.stderr)
        return 1
    try:
        print(json.dumps(switch(root, release, bool(options.get("check_mode")))))
    except OSError as error:
        print(f"Could not switch the links in {root}: {error}", file=sys.stderr)
        return 1
    return 0


def main():
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "release": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    release = module.params["release"]
    if refusal(release):
        module.fail_json(msg=refusal(release))
    try:
        module.exit_json(**switch(module.params["root"], release, module.check_mode))
    except OSError as error:
        module.fail_json(msg=f"Could not switch the links in {module.params['root']}: {error}")


if __name__ == "__main__":
    if sys.argv[0] == "-c":
        sys.exit(script(json.loads(sys.argv[1])))
    main()
