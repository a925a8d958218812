from django.apps import AppConfig


class SlaTrackerConfig(AppConfig):
    name = "sla_tracker"
    verbose_name = "Service levels and credits"

    def ready(self):
        import config.db  # noqa: F401  (registers the ``field__any`` lookup the close's reads use)
