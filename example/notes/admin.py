from django.contrib import admin

from notes.models import Note


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["title", "body"]
    date_hierarchy = "created_at"
