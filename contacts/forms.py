from django import forms

from contacts.models import Segment, Workspace


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "color", "description"]
        widgets = {
            "color": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"description": "Optional: who belongs here and why."}

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.workspace = workspace

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        taken = (
            Segment.objects.in_workspace(self.instance.workspace)
            .filter(name__iexact=name)
            .exclude(pk=self.instance.pk)
        )
        if taken.exists():
            raise forms.ValidationError(
                "A segment named “%(name)s” already exists in this workspace.",
                code="duplicate",
                params={"name": name},
            )
        return name
