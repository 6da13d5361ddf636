from django.urls import path

from notes import views

app_name = "notes"
urlpatterns = [
    path("", views.NoteListView.as_view(), name="list"),
    path("notes/new/", views.NoteCreateView.as_view(), name="create"),
    path("notes/<int:pk>/", views.NoteDetailView.as_view(), name="detail"),
]
