from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.views.generic import CreateView, DetailView, ListView

from notes.forms import NoteForm
from notes.models import Note


class NoteListView(ListView):
    model = Note
    paginate_by = 20
    queryset = Note.objects.select_related("author")


class NoteDetailView(DetailView):
    model = Note
    queryset = Note.objects.select_related("author")


class NoteCreateView(LoginRequiredMixin, CreateView):
    model = Note
    form_class = NoteForm

    def form_valid(self, form: NoteForm) -> HttpResponse:
        form.instance.author = self.request.user
        return super().form_valid(form)
