"""A URLconf with a stand-in for lifecycle:rule_new, the contract the waste list links to."""

from django.http import HttpResponse
from django.urls import include, path

from s3portal.urls import urlpatterns as portal_patterns

lifecycle_patterns = (
    [path("buckets/<int:pk>/rules/new/", lambda r, pk: HttpResponse(""), name="rule_new")],
    "lifecycle",
)
urlpatterns = [path("lifecycle/", include(lifecycle_patterns)), *portal_patterns]
