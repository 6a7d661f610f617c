from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "lifecycle"

    def ready(self) -> None:
        # storage never imports lifecycle: lifecycle listens to what the scan read.
        from lifecycle.drift import on_bucket_scanned
        from storage.signals import bucket_scanned

        bucket_scanned.connect(on_bucket_scanned, dispatch_uid="lifecycle.drift")
