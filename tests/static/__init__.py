"""Checks of the shipped files (image, manifests, skaffold config) that need no cluster."""
