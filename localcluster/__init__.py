"""A real Kubernetes control plane on loopback, built from source, for tests and local runs.

The package finds or builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
and kwok, starts them with RBAC enforced and an audit log, and offers the helpers that tests need
to act as a ServiceAccount would inside a pod. It is development tooling: it is not part of the
operator's package and is never shipped in its image.
"""

from localcluster.cluster import LocalCluster

__all__ = ["LocalCluster"]
