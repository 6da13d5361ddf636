"""A user's visit, run inside the container with the standard library only.

Logs in through the site's login form, creates a note with an uploaded file through the create
form, and prints a JSON object with the note's page and its file's /media/ URL.
Usage: python3 browser.py BASE_URL CA_FILE USERNAME PASSWORD FILE_NAME FILE_CONTENT
"""

import http.cookiejar
import json
import re
import ssl
import sys
import urllib.parse
import urllib.request
import uuid


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise SystemExit("no CSRF token in the form")
    return match.group(1)


def multipart(fields: dict[str, str], file_field: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
        "Content-Type: text/plain\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def main() -> None:
    base, ca_file, username, password, file_name, file_content = sys.argv[1:7]
    context = ssl.create_default_context(cafile=ca_file)
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        urllib.request.HTTPSHandler(context=context),
    )
    origin = {"Origin": base, "Referer": base + "/"}

    login_url = base + "/accounts/login/?next=/notes/new/"
    token = csrf_token(opener.open(login_url).read().decode())
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}).encode()
    form_page = opener.open(urllib.request.Request(login_url, data=data, headers=origin))
    if not form_page.url.endswith("/notes/new/"):
        raise SystemExit(f"login failed, landed on {form_page.url}")

    body, content_type = multipart(
        {
            "title": "Uploaded in the site scenario",
            "body": "kept across deploys",
            "csrfmiddlewaretoken": csrf_token(form_page.read().decode()),
        },
        "attachment",
        file_name,
        file_content.encode(),
    )
    request = urllib.request.Request(base + "/notes/new/", data=body, headers={**origin, "Content-Type": content_type})
    detail = opener.open(request)
    page = detail.read().decode()
    media = re.search(r'href="(/media/[^"]+)"', page)
    if not media:
        raise SystemExit(f"no attachment link on {detail.url}")
    print(json.dumps({"detail_url": detail.url, "media_url": media.group(1)}))


if __name__ == "__main__":
    main()
