"""The example controller: StaticSite, a set of files served by nginx.

Everything specific to the kind lives here; `CONTROLLER` hands it to the generic machinery.
Copying the scaffold for another kind means rewriting this package (start with the
`TODO(user):` marks) and keeping `staticsite.machinery` as it is.
"""

from staticsite.example.permissions import PERMISSIONS
from staticsite.example.reconciler import reconcile
from staticsite.example.resources import FIELD_MANAGER, MANAGED_BY_LABELS, OWNED, STATICSITE
from staticsite.machinery.controller import ControllerSpec

CONTROLLER = ControllerSpec(
    name="staticsite",  # TODO(user): the controller's name in logs and metrics.
    field_manager=FIELD_MANAGER,
    primary=STATICSITE,
    owned=OWNED,
    owned_labels=MANAGED_BY_LABELS,
    permissions=PERMISSIONS,
    reconcile=reconcile,
)

__all__ = ["CONTROLLER"]
