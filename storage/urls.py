from django.urls import path

from storage.views import buckets, findings, fixes, platform, scans

app_name = "storage"

urlpatterns = [
    path("", buckets.bucket_list, name="bucket_list"),
    path("<int:pk>/", buckets.bucket_detail, name="bucket_detail"),
    path("<int:pk>/snapshots/<int:snapshot_pk>/", buckets.snapshot_detail, name="snapshot_detail"),
    path("<int:pk>/rescan/", scans.rescan, name="rescan"),
    path("<int:pk>/fix/<slug:action>/", fixes.fix_view, name="fix"),
    path("findings/", findings.finding_list, name="finding_list"),
    path("findings/<int:pk>/suppress/", findings.suppress_finding, name="suppress_finding"),
    path("findings/<int:pk>/unsuppress/", findings.unsuppress_finding, name="unsuppress_finding"),
    path("scans/", scans.scan_list, name="scan_list"),
    path("scans/start/", scans.start_scan, name="start_scan"),
    path("scans/<int:pk>/", scans.scan_detail, name="scan_detail"),
    path("scans/<int:pk>/status.json", scans.scan_status, name="scan_status"),
    path("public/", platform.public_buckets, name="public_buckets"),
]
