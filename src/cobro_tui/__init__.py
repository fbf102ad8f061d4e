"""cobro-tui: the collector workstation for debt-collection call centres."""

__version__ = "0.1.0"
