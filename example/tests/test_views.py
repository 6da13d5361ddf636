import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.views.defaults import server_error

from notes.models import Note

pytestmark = pytest.mark.django_db


def test_list_shows_notes_and_hashed_stylesheet(client, author):
    Note.objects.create(title="First note", author=author)
    Note.objects.create(title="Second note", author=author)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "First note" in page
    assert "Second note" in page
    assert re.search(r'href="/static/notes/site\.[0-9a-f]{12}\.css"', page)


def test_detail_shows_body_and_attachment_link(client, author, media_root):
    note = Note.objects.create(
        title="With file",
        body="Line one",
        author=author,
        attachment=SimpleUploadedFile("plan.txt", b"the plan"),
    )

    response = client.get(f"/notes/{note.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "With file" in page
    assert "Line one" in page
    assert 'href="/media/notes/plan' in page


def test_missing_note_uses_custom_404(client):
    response = client.get("/notes/999999/")

    assert response.status_code == 404
    assert "There is no page at this address." in response.content.decode()


def test_custom_500_template():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side." in response.content.decode()


def test_create_requires_login(client):
    response = client.post("/notes/new/", {"title": "Sneaky"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/notes/new/"
    assert not Note.objects.exists()


def test_login_page_logs_in(client, author):
    assert client.get("/accounts/login/").status_code == 200

    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct-horse-battery"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "New note" in client.get("/").content.decode()


def test_create_note_with_upload(client, author, media_root):
    client.force_login(author)

    response = client.post(
        "/notes/new/",
        {
            "title": "Uploaded",
            "body": "see attachment",
            "attachment": SimpleUploadedFile("report.txt", b"quarterly numbers"),
        },
    )

    note = Note.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/notes/{note.pk}/"
    assert note.author == author
    assert note.attachment.name.startswith("notes/report")
    stored = media_root / note.attachment.name
    assert stored.read_bytes() == b"quarterly numbers"


def test_create_form_rejects_missing_title(client, author, media_root):
    client.force_login(author)

    response = client.post("/notes/new/", {"body": "no title"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Note.objects.exists()


def test_admin_lists_notes(client, author):
    admin = User.objects.create_superuser("root", "root@example.org", "admin-password-1")
    Note.objects.create(title="Admin sees me", author=author)
    client.force_login(admin)

    response = client.get("/admin/notes/note/")

    assert response.status_code == 200
    assert "Admin sees me" in response.content.decode()
