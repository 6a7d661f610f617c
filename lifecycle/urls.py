"""Mounted at the site root: /buckets/<id>/lifecycle/... and /lifecycle/templates/..."""

from django.urls import path

from lifecycle import template_views, views

app_name = "lifecycle"

urlpatterns = [
    path("buckets/<int:pk>/lifecycle/", views.rules_page, name="rules"),
    # Contract with the cost pages: ?rule=<URL-encoded JSON of one rule in S3's shape>.
    path("buckets/<int:pk>/lifecycle/new/", views.rule_new, name="rule_new"),
    path("buckets/<int:pk>/lifecycle/rules/<int:rule_pk>/", views.rule_edit, name="rule_edit"),
    path(
        "buckets/<int:pk>/lifecycle/rules/<int:rule_pk>/remove/",
        views.rule_delete,
        name="rule_delete",
    ),
    path("buckets/<int:pk>/lifecycle/apply/", views.apply_portal_rules, name="apply"),
    path("buckets/<int:pk>/lifecycle/adopt/", views.adopt, name="adopt"),
    path("buckets/<int:pk>/lifecycle/drift/accept/", views.accept_drift_view, name="accept_drift"),
    path(
        "buckets/<int:pk>/lifecycle/versions/<int:number>/",
        views.version_detail,
        name="version",
    ),
    path(
        "buckets/<int:pk>/lifecycle/versions/<int:number>/rollback/",
        views.rollback,
        name="rollback",
    ),
    path("lifecycle/templates/", template_views.template_list, name="template_list"),
    path("lifecycle/templates/new/", template_views.template_edit, name="template_new"),
    path("lifecycle/templates/<int:pk>/", template_views.template_edit, name="template_edit"),
    path(
        "lifecycle/templates/<int:pk>/apply/",
        template_views.template_apply,
        name="template_apply",
    ),
    path(
        "lifecycle/templates/batches/<slug:batch>/",
        template_views.batch_detail,
        name="template_batch",
    ),
]
