"""The toolkit's version, in a module of its own: submodules that record it (the manifest, the Hub
client's user agent, the call-site index key) import it without importing the package's root."""

__version__ = "0.1.0"
