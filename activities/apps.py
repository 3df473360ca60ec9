from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "Activities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models import Field

        from activities.bulk import AnyOf

        Field.register_lookup(AnyOf)
