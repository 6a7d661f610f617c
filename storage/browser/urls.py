from django.urls import path

from .views import acts, browse, upload

app_name = "browser"

urlpatterns = [
    path("<int:pk>/objects/", browse.objects, name="objects"),
    path("<int:pk>/objects/upload/", upload.upload, name="upload"),
    path("<int:pk>/objects/folder/", acts.create_folder, name="create_folder"),
    path("<int:pk>/objects/expiry/", acts.bulk_expiry, name="bulk_expiry"),
    path("<int:pk>/object/", browse.object_page, name="object"),
    path("<int:pk>/object/download/", browse.download, name="download"),
    path("<int:pk>/object/delete/", acts.delete, name="delete"),
    path("<int:pk>/object/restore/", acts.restore, name="restore"),
    path("<int:pk>/object/share/", acts.share, name="share"),
    path("<int:pk>/object/expiry/", acts.set_expiry, name="expiry"),
    path("<int:pk>/expiries/", browse.expiries, name="expiries"),
]
