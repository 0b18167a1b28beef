"""The StaticSite operator: a kopf-based scaffold that serves static files from a custom resource.

`machinery` holds the generic, kind-agnostic parts (credentials, the REST client, retries,
server-side apply, conditions, logging, metrics, the access check, the kopf wiring); `example`
holds everything specific to the StaticSite kind. Copy the scaffold, keep the machinery, replace
the example.
"""

__version__ = "0.1.0"
