"""``auylnet demo``: sample data and the demo runner."""
