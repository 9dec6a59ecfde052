"""fedinet: a federated ActivityPub server for people who network for a reason."""

__version__ = "0.1.0"
