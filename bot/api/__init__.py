"""The open HTTP API for other systems: Open311 GeoReport v2, the village status feed, keys and events."""
