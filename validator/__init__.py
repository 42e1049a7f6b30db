"""connector-validator: check an Intercom token against what a connector.yaml declares."""

__version__ = "0.1.0"
