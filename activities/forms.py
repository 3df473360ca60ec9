from django import forms

from contacts.models import Note


class NoteForm(forms.Form):
    content = forms.CharField(
        label="Note",
        max_length=Note._meta.get_field("content").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a note…"}),
    )
