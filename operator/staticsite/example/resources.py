"""The StaticSite kind, the kinds it owns, and the names and labels they carry."""

from staticsite.machinery.resources import ResourceRef

# TODO(user): your operator's name: the field manager of every write and the managed-by label.
OPERATOR_NAME = "staticsite-operator"
FIELD_MANAGER = OPERATOR_NAME

# TODO(user): your custom resource (it must match the CRD in manifests/).
STATICSITE = ResourceRef("sites.example.com", "v1alpha1", "staticsites", "StaticSite")

# TODO(user): the kinds your controller creates for each custom object.
CONFIGMAP = ResourceRef("", "v1", "configmaps", "ConfigMap")
DEPLOYMENT = ResourceRef("apps", "v1", "deployments", "Deployment")
SERVICE = ResourceRef("", "v1", "services", "Service")
OWNED = (CONFIGMAP, DEPLOYMENT, SERVICE)

APP_NAME = "staticsite"  # TODO(user): the value of app.kubernetes.io/name on the children.
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_LABELS = {MANAGED_BY_LABEL: OPERATOR_NAME}

CHECKSUM_ANNOTATION = "sites.example.com/files-checksum"
DEFAULT_IMAGE = "nginxinc/nginx-unprivileged:1.27-alpine"
