"""Role rules beyond "at least role X": what each role may do with a tenant's files.

Every other page asks `role_at_least(role, minimum)` (accounts.roles / accounts.access); the
files app needs a little more (viewers read every file but change none, members only their own),
and that policy lives here, beside the other role rules, not inside the files app.

| role     | sees                  | uploads | downloads                         | changes     |
|----------|-----------------------|---------|-----------------------------------|-------------|
| admin    | every file of tenant  | yes     | yes                               | every file  |
| operator | own files             | yes     | yes                               | own files   |
| member   | own files             | yes     | yes                               | own files   |
| viewer   | every file of tenant  | no      | only if the tenant allows it      | none        |
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.roles import Role, role_at_least


@dataclass(frozen=True)
class FilesPolicy:
    """What `role` may do with files in a tenant (whose file space may let viewers download)."""

    role: str
    viewers_may_download: bool = False

    @property
    def is_admin(self) -> bool:
        return role_at_least(self.role, Role.ADMIN)

    @property
    def sees_all(self) -> bool:
        """Admins manage, viewers read, every file of the tenant; others their own only."""
        return self.is_admin or self.role == Role.VIEWER

    @property
    def may_upload(self) -> bool:
        return role_at_least(self.role, Role.MEMBER)

    @property
    def may_download(self) -> bool:
        if self.role == Role.VIEWER:
            return self.viewers_may_download
        return True

    def may_see(self, *, owns_it: bool) -> bool:
        return self.sees_all or owns_it

    def may_change(self, *, owns_it: bool) -> bool:
        return self.is_admin or (self.may_upload and owns_it)
