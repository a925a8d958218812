from django.apps import AppConfig


class SlaTrackerConfig(AppConfig):
    name = "sla_tracker"
    verbose_name = "Service levels and credits"
