# Run by the role with the host's python3: print the app's SECRET_KEY as JSON, generating it
# first when the key file does not exist yet. Arguments: the key file, then "apply" or "check".
# The exclusive create makes the file root-only (0600) from the start and never replaces a key.
import json
import os
import secrets
import sys

path, mode = sys.argv[1], sys.argv[2]
created = False
if not os.path.exists(path):
    created = True
    if mode == "apply":
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, secrets.token_urlsafe(64).encode())
        os.close(fd)
key = ""
if os.path.exists(path):
    with open(path, encoding="utf-8") as stream:
        key = stream.read().strip()
print(json.dumps({"created": created, "key": key}))
