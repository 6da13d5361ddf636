#!/usr/bin/python
"""Read an app's releases, its current and previous links and, optionally, the commit a version names."""

import json
import sys

try:
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.djangoops.django.plugins.module_utils.releases import holding, read, resolve
except ImportError:  # run as a script by the host's python3, after the text of module_utils/releases.py
    AnsibleModule = None

DOCUMENTATION = r"""
---
module: release_info
short_description: The releases of an app, its current and previous release, and the commit a version names
description:
  - Reads the app's base directory (I(root)) in one call; changes nothing and supports check mode.
  - The text of C(module_utils/releases.py) followed by this file's also runs as a script with the host's python3
    and the options as one JSON object, for a call over M(ansible.builtin.raw) without a module around it
    (app_code on every run); it prints the same answer as JSON.
  - With I(version), resolves it in the bare repository I(cache) (C(git rev-parse --verify <version>^{commit}),
    so an annotated tag gives its commit) and names the release that already holds that commit.
  - A base directory that does not exist yet reads as empty (check mode on a new host).
version_added: "1.0.0"
author: djangoops
options:
  root:
    description: The app's base directory, holding C(releases/), C(current) and C(previous).
    type: path
    required: true
  cache:
    description: The bare repository in which I(version) is resolved.
    type: path
    default: ""
  version:
    description: A branch, tag or commit to resolve; the empty string resolves nothing.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Resolve the branch main and look for its release
  djangoops.django.release_info:
    root: /srv/notes
    cache: /srv/notes/repo.git
    version: main
  register: found
"""

RETURN = r"""
current_type:
  description: C(link), C(other) (C(current) exists and is not a symlink) or C(none).
  returned: always
  type: str
current:
  description: The release C(current) points at (an empty string when it is not a link).
  returned: always
  type: str
previous:
  description: The release C(previous) points at (an empty string when it is not a link).
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
stamp:
  description: The host's UTC time, C(YYYYmmddHHMMSS) (the start of a new release's name).
  returned: always
  type: str
sha:
  description: The commit I(version) names in I(cache) (an empty string when it names none).
  returned: when I(version) is given
  type: str
release:
  description: The release holding that commit, C(current) first (an empty string when none does).
  returned: when I(version) is given
  type: str
"""


def info(root: str, cache: str, version: str) -> dict:
    state = read(root)
    if version:
        state["sha"] = resolve(cache, version)
        state["release"] = holding(state, state["sha"])
    return state


def main():
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "cache": {"type": "path", "default": ""},
            "version": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    params = module.params
    module.exit_json(changed=False, **info(params["root"], params["cache"], params["version"]))


if __name__ == "__main__":
    if sys.argv[0] == "-c":
        options = json.loads(sys.argv[1])
        print(
            json.dumps(
                {"changed": False, **info(options["root"], options.get("cache", ""), options.get("version", ""))}
            )
        )
    else:
        main()
