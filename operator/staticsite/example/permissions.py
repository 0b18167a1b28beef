"""The permissions the StaticSite code itself uses, in each watched namespace.

kopf's list and watch on every watched kind are added by the machinery
(`machinery.permissions.required_permissions`); `rbac/clusterrole.yaml` must grant exactly the
union, and a unit test holds the two together.
"""

from staticsite.example.resources import CONFIGMAP, DEPLOYMENT, SERVICE, STATICSITE
from staticsite.machinery.permissions import Permission, on

# TODO(user): list what your reconcile function calls, and nothing more.
PERMISSIONS: tuple[Permission, ...] = (
    *on(STATICSITE, "patch", subresource="status"),  # status, by server-side apply
    # Children, by server-side apply: a PATCH, which the API server also authorises as
    # `create` when the object does not exist yet.
    *on(CONFIGMAP, "create", "patch"),
    *on(DEPLOYMENT, "create", "patch"),
    *on(SERVICE, "create", "patch"),
)
