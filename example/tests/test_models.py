from datetime import timedelta

import pytest
from django.utils import timezone

from notes.models import Note

pytestmark = pytest.mark.django_db


def test_note_str_and_url(author):
    note = Note.objects.create(title="Shopping", body="milk", author=author)

    assert str(note) == "Shopping"
    assert note.get_absolute_url() == f"/notes/{note.pk}/"
    assert not note.attachment
    assert note.created_at is not None


def test_notes_are_listed_newest_first(author):
    older = Note.objects.create(title="older", author=author)
    newer = Note.objects.create(title="newer", author=author)
    Note.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))

    assert list(Note.objects.all()) == [newer, older]
    assert list(author.notes.all()) == [newer, older]
