"""The one version number of nbunify (package.json mirrors it; a test checks they agree)."""

__version__ = "0.1.0"
