"""Progress at a glance: villages, buildings, outages and classes of an area, as text and a chart."""
