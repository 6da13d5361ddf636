"""A real browser on the site: headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium) opens it through nginx over HTTPS, logs in to the admin with its form, sees the admin's
stylesheet applied, and uploads a file through the file input. Each page's screenshot is kept under
.artifacts/<scenario>/ (DJANGOOPS_ARTIFACTS elsewhere).

The browser runs on this machine, trusts Pebble's root only (an NSS database of its own) and resolves
site.test to the container; every other name resolves nowhere, so no traffic leaves for the internet.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from project import APP, BASE, NAME, PROJECT, REPO
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(os.environ.get("DJANGOOPS_ARTIFACTS", REPO / ".artifacts")) / NAME
UPLOAD_TEXT = f"uploaded through Chromium to {NAME}\n"
# The admin's header colour (--secondary, #417690): the stylesheet applied, not only fetched.
ADMIN_HEADER_BACKGROUND = "rgba(65, 118, 144, 1)"


@pytest.fixture(scope="module")
def browser(host):
    address = subprocess.run(
        ["podman", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", host.backend.name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert address, f"no address for {host.backend.name}"
    home = Path(tempfile.mkdtemp(prefix="djangoops-chromium-"))
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    root = home / "pebble-root.pem"
    root.write_text(host.check_output("curl -sS --fail --cacert /etc/pebble/cert.pem https://localhost:15000/roots/0"))
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "pebble", "-i", str(root)], check=True)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container-less CI shell: Chromium's sandbox needs a user namespace
        "--disable-dev-shm-usage",
        f"--user-data-dir={home / 'profile'}",
        f"--host-resolver-rules=MAP site.test {address}, MAP * ~NOTFOUND",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    service = Service("/usr/bin/chromedriver", env={**os.environ, "HOME": str(home)})
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(home, ignore_errors=True)


def snapshot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_chromium_logs_in_to_the_styled_admin_and_uploads_a_file(browser, host, tmp_path):
    wait = WebDriverWait(browser, 20)
    browser.get(f"{BASE}/admin/login/?next=/admin/")
    snapshot(browser, "1-login")
    # A certificate Chromium did not trust would show its interstitial, not the form.
    assert browser.find_element(By.ID, "id_username")
    header = browser.find_element(By.ID, "header")
    assert header.value_of_css_property("background-color") == ADMIN_HEADER_BACKGROUND

    username, password = PROJECT["admin"]
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(expected_conditions.url_to_be(f"{BASE}/admin/"))
    snapshot(browser, "2-admin-index")
    assert PROJECT["admin_model"] in browser.page_source

    upload = tmp_path / f"chromium-{NAME}.txt"
    upload.write_text(UPLOAD_TEXT)
    browser.get(BASE + PROJECT["add_url"])
    snapshot(browser, "3-add-page")
    # Once, under load, the add page had no form here: wait for it, and say what the page was instead.
    try:
        title_field = wait.until(expected_conditions.presence_of_element_located((By.ID, "id_title")))
    except TimeoutException:
        pytest.fail(f"no add form at {browser.current_url} ({browser.title!r}):\n{browser.page_source[-3000:]}")
    title_field.send_keys(f"From Chromium ({NAME})")
    browser.find_element(By.ID, f"id_{PROJECT['file_field']}").send_keys(str(upload))
    snapshot(browser, "3-add-form")
    browser.find_element(By.NAME, "_save").click()
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success")))
    snapshot(browser, "4-saved")

    # The file the form stored, in shared/media, served by nginx (its media headers) to the browser too.
    media = f"/srv/{APP}/shared/media/{PROJECT['upload_dir']}"
    stored = host.check_output(f"ls -t {media} | grep '^chromium-{NAME}' | head -n 1")
    assert stored, f"nothing stored in {media}"
    assert host.file(f"{media}/{stored}").content_string == UPLOAD_TEXT
    url = f"/media/{PROJECT['upload_dir']}/{stored}"
    headers = host.check_output(f"curl -sS --fail -D - -o /dev/null --cacert /tmp/pebble-root.pem {BASE}{url}")
    assert "content-security-policy: default-src 'none'" in headers.lower()
    browser.get(BASE + url)
    snapshot(browser, "5-uploaded-file")
    assert UPLOAD_TEXT.strip() in browser.find_element(By.TAG_NAME, "body").text
