"""Generic operator machinery: nothing in this package knows about the StaticSite kind.

A controller is described by a `machinery.controller.ControllerSpec` (the primary resource, the
owned resources, the permissions and the reconcile function); `machinery.runtime` runs it.
"""
