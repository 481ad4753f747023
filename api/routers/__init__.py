"""One router per resource, joined in :mod:`api.app`."""
